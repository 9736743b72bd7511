/**
 * DWCP core API: the {@link io.dwcp.core.DwcpManager} entry point, units ({@link io.dwcp.core.DataSize},
 * {@link io.dwcp.core.DataRate}), tiers, lifecycle states and the {@link io.dwcp.core.DwcpException} hierarchy with
 * stable {@link io.dwcp.core.ErrorCode}s. Public API.
 */
package io.dwcp.core;
