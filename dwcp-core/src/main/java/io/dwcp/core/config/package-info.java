/**
 * Configuration: the immutable {@link io.dwcp.core.config.DwcpConfig}, its schema of typed keys with units,
 * per-tier defaults and ranges, and the key constants of each module. Public API; the schema also generates
 * {@code docs/configuration.md}.
 */
package io.dwcp.core.config;
