package io.dwcp.transport.netty;

import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.util.Locale;

/**
 * Names the certificate problem behind a failed TLS handshake. The engine's own message is often only "General
 * OpenSslEngine problem"; the real reason is further down the cause chain (the JDK trust manager's exception) or in
 * an OpenSSL reason code. Each description says what to check or change.
 */
final class TlsFailures {
    private TlsFailures() {
    }

    static String describe(Throwable failure) {
        String deepest = String.valueOf(failure.getMessage());
        for (Throwable c = failure; c != null; c = c.getCause()) {
            if (c instanceof CertificateExpiredException) {
                return "the peer's certificate has expired (" + c.getMessage() + ")";
            }
            if (c instanceof CertificateNotYetValidException) {
                return "the peer's certificate is not valid yet (" + c.getMessage() + "; check both clocks)";
            }
            if (c.getMessage() != null) {
                deepest = c.getMessage();
            }
        }
        String m = deepest;
        String all = chain(failure).toLowerCase(Locale.ROOT);
        if (all.contains("no subject alternative") || all.contains("no name matching") || all.contains("hostname")) {
            return "the peer's certificate does not name the address it was reached at (its subjectAltName must contain"
                    + " that host name or IP address): " + m;
        }
        if (all.contains("unable to find valid certification path") || all.contains("pkix path")
                || all.contains("certificate_verify_failed") || all.contains("unknown_ca")
                || all.contains("signature check failed")) {
            return "the peer's certificate is not signed by a CA in dwcp.transport.tls.trusted-ca (wrong CA, or the"
                    + " peer sent no intermediate): " + m;
        }
        if (all.contains("peer_did_not_return_a_certificate")) {
            return "mutual TLS: the client sent no certificate (it has none, or none signed by a CA this node trusts in"
                    + " dwcp.transport.tls.trusted-ca; or set dwcp.transport.tls.mutual = false here): " + m;
        }
        if (all.contains("certificate_required")) {
            return "the peer requires a client certificate signed by a CA it trusts, and this node sent none (check"
                    + " dwcp.transport.tls.certificate and that its CA is in the peer's trusted-ca): " + m;
        }
        if (all.contains("bad_certificate") || all.contains("tlsv1_alert_internal_error")) {
            return "the peer refused this node's certificate (is it signed by a CA the peer trusts, and does it match"
                    + " its private key?): " + m;
        }
        if (all.contains("not an ssl/tls record")) {
            return "the peer does not speak TLS (plaintext on one side: set dwcp.transport.tls.enabled alike on both)";
        }
        return m;
    }

    private static String chain(Throwable t) {
        StringBuilder b = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            b.append(c.getClass().getName()).append(": ").append(c.getMessage()).append('\n');
        }
        return b.toString();
    }
}
