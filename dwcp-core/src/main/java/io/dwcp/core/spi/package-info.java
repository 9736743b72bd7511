/**
 * Service-provider interfaces the modules meet through: {@link io.dwcp.core.transport.Transport} (AMST) and
 * {@link io.dwcp.core.spi.StateCodec} (HDE) and
 * {@link io.dwcp.core.spi.BandwidthPredictor} (PBA, with its {@link io.dwcp.core.spi.Forecast}),
 * {@link io.dwcp.core.spi.Placer} (ITP), {@link io.dwcp.core.spi.BlockCompressor} (zstd for core's seeded rounds),
 * their providers found with {@link java.util.ServiceLoader}, and the
 * {@link io.dwcp.core.spi.Component} lifecycle the manager drives. Public API for provider implementers and users.
 */
package io.dwcp.core.spi;
