/**
 * The immutable placement model and its results, shared by the placement SPI ({@link io.dwcp.core.spi.Placer}) and
 * its callers: VMs with CPU, memory and state-byte weights, directed traffic in bytes per second, sites with
 * capacities, pins, anti-affinity groups and an optional inter-site cost matrix; a result is a placement map with its
 * predicted cross-site traffic and an ordered move plan. Public API.
 */
package io.dwcp.core.placement;
