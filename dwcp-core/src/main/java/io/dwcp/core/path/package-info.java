/**
 * The path monitor (one bounded history of {@link io.dwcp.core.path.PathSample}s per peer) that the transport feeds
 * with measurements and the tier classifier and the bandwidth predictor read. Public API: a value is either measured
 * or unknown, never invented.
 */
package io.dwcp.core.path;
