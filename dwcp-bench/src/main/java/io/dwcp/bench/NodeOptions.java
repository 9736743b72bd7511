package io.dwcp.bench;

import io.dwcp.core.DwcpManager;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.TransportKeys;

import java.net.InetSocketAddress;
import java.util.Set;

/**
 * Options shared by the commands that open a transport ({@code send}, {@code receive}, {@code bench-transport}, and
 * any new one): TLS (certificate, key, trusted CA) or plaintext, stream count, rate cap, compression level ceiling;
 * and how they become a {@link DwcpConfig}.
 *
 * <p>The TLS options are the same everywhere ({@link #TLS_VALUES}, {@link #TLS_FLAGS}, {@link #TLS_USAGE}) and so is
 * the plaintext rule ({@link #tls}): TLS needs all three PEM files; plaintext only with {@code --plaintext}. A command
 * adds them to its own options with {@link #union}. {@code --key-file} is the TLS private key; {@code --key} is left
 * to commands that name a state.
 */
final class NodeOptions {
    /** TLS options with a value: the node's certificate chain, its private key, the CA certificates it trusts. */
    static final Set<String> TLS_VALUES = Set.of("cert", "key-file", "ca");
    /** TLS flags: no TLS at all, or no client certificate required from peers. */
    static final Set<String> TLS_FLAGS = Set.of("plaintext", "no-mutual");
    static final String TLS_USAGE = "--cert PEM --key-file PEM --ca PEM [--no-mutual] | --plaintext";
    static final Set<String> WITH_VALUE = union(TLS_VALUES, "streams", "max-streams", "rate-cap", "level", "threads");
    static final Set<String> FLAGS = union(TLS_FLAGS, "json", "help");
    static final String USAGE = "(" + TLS_USAGE + ") [--streams auto|N]"
            + " [--max-streams N] [--rate-cap 400Mbit/s] [--level zstd:3] [--threads N] [--json]";

    private NodeOptions() {
    }

    /** {@code a} plus {@code more}, for a command's option sets. */
    static Set<String> union(Set<String> a, String... more) {
        Set<String> s = new java.util.HashSet<>(a);
        s.addAll(Set.of(more));
        return Set.copyOf(s);
    }

    /**
     * The one plaintext rule of every command: TLS with all of {@code --cert}, {@code --key-file} and {@code --ca};
     * plaintext only when asked with {@code --plaintext} (which then takes no TLS option). Anything else is a usage
     * error that says what to pass.
     *
     * @param a the parsed options
     * @param b the configuration being built
     * @return {@code b}
     */
    static DwcpConfig.Builder tls(CliArgs a, DwcpConfig.Builder b) {
        boolean anyTls = a.get("cert") != null || a.get("key-file") != null || a.get("ca") != null || a.flag("no-mutual");
        if (a.flag("plaintext")) {
            if (anyTls) {
                throw new CliArgs.UsageException("--plaintext takes no TLS option: drop --cert/--key-file/--ca/--no-mutual,"
                        + " or drop --plaintext");
            }
            return b.set(TransportKeys.TLS_ENABLED, false);
        }
        if (a.get("cert") == null || a.get("key-file") == null || a.get("ca") == null) {
            throw new CliArgs.UsageException("TLS needs all of --cert, --key-file and --ca (PEM files); pass --plaintext"
                    + " to run without TLS");
        }
        b.set("dwcp.transport.tls.certificate", a.get("cert"));
        b.set("dwcp.transport.tls.private-key", a.get("key-file"));
        b.set("dwcp.transport.tls.trusted-ca", a.get("ca"));
        if (a.flag("no-mutual")) {
            b.set(TransportKeys.TLS_MUTUAL, false);
        }
        return b;
    }

    /** The configuration of {@code send} and {@code receive}: system properties, then {@link #tls}, then the rest. */
    static DwcpConfig config(CliArgs a) {
        DwcpConfig.Builder b = tls(a, DwcpConfig.builder().systemProperties());
        String streams = a.get("streams", "auto");
        if (!streams.equals("auto")) {
            b.set("dwcp.transport.min-streams", streams);
            b.set("dwcp.transport.initial-streams", streams);
            b.set("dwcp.transport.max-streams", streams);
        } else if (a.get("max-streams") != null) {
            b.set("dwcp.transport.max-streams", a.get("max-streams"));
        }
        if (a.get("rate-cap") != null) {
            b.set("dwcp.transport.rate-cap", a.get("rate-cap"));
        }
        if (a.get("level") != null) {
            for (String tier : new String[]{"local", "regional", "wan"}) {
                b.set("dwcp.compression.level." + tier, a.get("level"));
            }
        }
        if (a.get("threads") != null) {
            b.set("dwcp.cpu.max-threads", a.get("threads"));
        } else {
            b.set("dwcp.cpu.max-threads", Integer.toString(Runtime.getRuntime().availableProcessors()));
        }
        return b.build();
    }

    static DwcpManager manager(DwcpConfig config) {
        return DwcpManager.builder().config(config).build();
    }

    /** Parses {@code HOST:PORT} (IPv6 as {@code [::1]:PORT}). */
    static InetSocketAddress address(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0 || colon == hostPort.length() - 1) {
            throw new CliArgs.UsageException("'" + hostPort + "' is not HOST:PORT");
        }
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            return new InetSocketAddress(host, Integer.parseInt(hostPort.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new CliArgs.UsageException("'" + hostPort + "' has no numeric port");
        }
    }
}
