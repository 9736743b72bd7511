package io.dwcp.transport.netty;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.Date;

/** Test-time PKI: a self-signed CA and node certificates it signs, written as PEM files (BouncyCastle, test scope). */
final class Certificates {
    final Path dir;
    private final KeyPair caKeys;
    private final X500Name caName;
    final Path caPem;
    private final X509CertificateHolder caCert;
    private long serial = 2;

    Certificates(Path dir, String caCommonName) throws Exception {
        this.dir = dir;
        this.caKeys = keys();
        this.caName = new X500Name("CN=" + caCommonName);
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(caName, BigInteger.ONE, from(), to(), caName,
                caKeys.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        caPem = dir.resolve(caCommonName + "-ca.pem");
        caCert = b.build(signer(caKeys));
        write(caPem, "CERTIFICATE", caCert.getEncoded());
    }

    /**
     * A node certificate naming {@code sans} in its subjectAltName, with its key, as an in-memory PKCS#12 key store
     * (alias {@code node}, key password = store password).
     */
    KeyStore nodeKeyStore(String commonName, char[] password, GeneralName... sans) throws Exception {
        KeyPair k = keys();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(caName, BigInteger.valueOf(serial++), from(), to(),
                new X500Name("CN=" + commonName), k.getPublic());
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans));
        JcaX509CertificateConverter convert = new JcaX509CertificateConverter();
        X509Certificate cert = convert.getCertificate(b.build(signer(caKeys)));
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("node", k.getPrivate(), password, new Certificate[] {cert, convert.getCertificate(caCert)});
        return ks;
    }

    /** This CA as a PKCS#12 trust store (alias {@code ca}). */
    KeyStore trustStore() throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setCertificateEntry("ca", new JcaX509CertificateConverter().getCertificate(caCert));
        return ks;
    }

    /** A node certificate signed by this CA; returns {cert.pem, key.pem}. */
    Path[] node(String commonName) throws Exception {
        KeyPair k = keys();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(caName, BigInteger.valueOf(serial++), from(), to(),
                new X500Name("CN=" + commonName), k.getPublic());
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "localhost")}));
        X509CertificateHolder cert = b.build(signer(caKeys));
        Path certPem = dir.resolve(commonName + ".pem");
        Path keyPem = dir.resolve(commonName + ".key");
        write(certPem, "CERTIFICATE", cert.getEncoded());
        write(keyPem, "PRIVATE KEY", k.getPrivate().getEncoded());
        return new Path[] {certPem, keyPem};
    }

    private static KeyPair keys() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static ContentSigner signer(KeyPair k) throws Exception {
        return new JcaContentSignerBuilder("SHA256withECDSA").build(k.getPrivate());
    }

    private static Date from() {
        return Date.from(Instant.now().minus(1, ChronoUnit.HOURS));
    }

    private static Date to() {
        return Date.from(Instant.now().plus(1, ChronoUnit.DAYS));
    }

    private static void write(Path p, String type, byte[] der) throws Exception {
        String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        Files.writeString(p, "-----BEGIN " + type + "-----\n" + b64 + "\n-----END " + type + "-----\n");
    }
}
