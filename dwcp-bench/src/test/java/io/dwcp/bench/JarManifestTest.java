package io.dwcp.bench;

import io.dwcp.compression.HdeCodecProvider;
import io.dwcp.consensus.RatisConsensusProvider;
import io.dwcp.core.DwcpManager;
import io.dwcp.prediction.PbaProvider;
import io.dwcp.transport.AmstTransportProvider;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarFile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The library jars carry the project version and their module name in the manifest, and {@code dwcp.build.info}
 * reports that version. The jars exist only once the reactor has packaged the library modules, as in
 * {@code ./mvnw verify}; under {@code ./mvnw test} the class path holds {@code target/classes} and this test is
 * skipped.
 */
class JarManifestTest {
    /** One class of each library module, by the module name its jar must declare. */
    private static final Map<String, Class<?>> MODULES = new LinkedHashMap<>();

    static {
        MODULES.put("io.dwcp.core", DwcpManager.class);
        MODULES.put("io.dwcp.transport", AmstTransportProvider.class);
        MODULES.put("io.dwcp.compression", HdeCodecProvider.class);
        MODULES.put("io.dwcp.prediction", PbaProvider.class);
        MODULES.put("io.dwcp.consensus", RatisConsensusProvider.class);
        MODULES.put("io.dwcp.partition", io.dwcp.partition.ItpPlacementProvider.class);
        MODULES.put("io.dwcp.sync", io.dwcp.sync.AssSyncProvider.class);
    }

    private static Path origin(Class<?> type) throws Exception {
        return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    @Test
    void libraryJarsDeclareVersionAndModuleNameAndBuildInfoReportsTheVersion() throws Exception {
        Assumptions.assumeTrue(Files.isRegularFile(origin(DwcpManager.class)),
                "the library runs from target/classes (mvn test): no jars to inspect; run mvn verify");
        String version = null;
        for (Map.Entry<String, Class<?>> e : MODULES.entrySet()) {
            Path jar = origin(e.getValue());
            try (JarFile f = new JarFile(jar.toFile())) {
                Attributes main = f.getManifest().getMainAttributes();
                assertEquals(e.getKey(), main.getValue("Automatic-Module-Name"), jar.toString());
                String v = main.getValue("Implementation-Version");
                assertNotNull(v, jar + " has no Implementation-Version");
                if (version == null) {
                    version = v;
                }
                assertEquals(version, v, jar + ": every library jar has the same version");
            }
        }
        try (DwcpManager m = DwcpManager.builder().meterRegistry(new SimpleMeterRegistry())
                .classLoader(new ClassLoader(null) { }).build()) {
            m.start();
            assertEquals(version, m.meterRegistry().get("dwcp.build.info").gauge().getId().getTag("version"));
        }
    }
}
