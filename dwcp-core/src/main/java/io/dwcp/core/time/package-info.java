/**
 * Time utilities shared by the modules: the hybrid logical clock that orders last-writer-wins updates and stamps
 * replicated metadata. Public API.
 */
package io.dwcp.core.time;
