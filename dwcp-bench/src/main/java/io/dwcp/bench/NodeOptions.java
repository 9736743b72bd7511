package io.dwcp.bench;

import io.dwcp.core.DwcpManager;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.TransportKeys;

import java.net.InetSocketAddress;
import java.util.Set;

/**
 * Options shared by {@code send}, {@code receive} and {@code demo}: TLS (certificate, key, trusted CA), plaintext,
 * stream count, rate cap, compression level ceiling; and how they become a {@link DwcpConfig}.
 */
final class NodeOptions {
    static final Set<String> WITH_VALUE = Set.of("cert", "key-file", "ca", "streams", "max-streams", "rate-cap", "level", "threads");
    static final Set<String> FLAGS = Set.of("plaintext", "no-mutual", "json", "help");
    static final String USAGE = "[--cert PEM --key-file PEM --ca PEM [--no-mutual] | --plaintext] [--streams auto|N]"
            + " [--max-streams N] [--rate-cap 400Mbit/s] [--level zstd:3] [--threads N] [--json]";

    private NodeOptions() {
    }

    /**
     * TLS when certificate files are given; plaintext with {@code --plaintext}, or with a warning on stderr when no
     * certificate is given (AMST-12: plaintext is never silent).
     */
    static DwcpConfig config(CliArgs a) {
        DwcpConfig.Builder b = DwcpConfig.builder().systemProperties();
        boolean haveCert = a.get("cert") != null || a.get("key-file") != null || a.get("ca") != null;
        if (a.flag("plaintext") || !haveCert) {
            if (!a.flag("plaintext")) {
                System.err.println("dwcp: WARNING no --cert/--key-file/--ca given: running WITHOUT TLS (pass --plaintext to silence this)");
            }
            b.set(TransportKeys.TLS_ENABLED, false);
        } else {
            if (a.get("cert") == null || a.get("key-file") == null || a.get("ca") == null) {
                throw new CliArgs.UsageException("TLS needs all of --cert, --key-file and --ca (PEM files)");
            }
            b.set("dwcp.transport.tls.certificate", a.get("cert"));
            b.set("dwcp.transport.tls.private-key", a.get("key-file"));
            b.set("dwcp.transport.tls.trusted-ca", a.get("ca"));
            if (a.flag("no-mutual")) {
                b.set(TransportKeys.TLS_MUTUAL, false);
            }
        }
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
