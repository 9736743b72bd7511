package io.dwcp.core;

import java.net.URL;
import java.security.CodeSource;

/**
 * The DWCP version this code was built as, for {@code dwcp.build.info{version}}: the {@code Implementation-Version}
 * of the jar manifest (the build writes the Maven project version there). Only code that does not run from a jar
 * (a build's {@code target/classes}, an IDE) has none; it reports {@value #DEV}. A jar without the entry (repackaged
 * by a tool that drops it) reports {@value #UNKNOWN} rather than pretending to be a development build.
 */
final class BuildVersion {
    /** The version of classes run from a directory. */
    static final String DEV = "dev";
    /** The version of a jar whose manifest has no {@code Implementation-Version}. */
    static final String UNKNOWN = "unknown";

    private BuildVersion() {
    }

    /** The version of the jar (or directory) {@code type} was loaded from. */
    static String of(Class<?> type) {
        Package p = type.getPackage();
        CodeSource source = type.getProtectionDomain().getCodeSource();
        return of(p == null ? null : p.getImplementationVersion(), source == null ? null : source.getLocation());
    }

    /**
     * @param implementationVersion the manifest's {@code Implementation-Version}, or null when it has none
     * @param codeSource where the classes were loaded from, or null when unknown
     */
    static String of(String implementationVersion, URL codeSource) {
        if (implementationVersion != null && !implementationVersion.isBlank()) {
            return implementationVersion.strip();
        }
        return fromJar(codeSource) ? UNKNOWN : DEV;
    }

    private static boolean fromJar(URL codeSource) {
        if (codeSource == null) {
            return false;
        }
        String s = codeSource.toString();
        return "jar".equals(codeSource.getProtocol()) || s.endsWith(".jar") || s.endsWith(".jar!/");
    }
}
