/**
 * The VM-state model: a key plus ordered regions of fixed-size pages, read positionally from files, buffers
 * or memory mappings without loading them, and sparse dirty-page sets. Public API.
 */
package io.dwcp.core.state;
