package io.dwcp.core;

import org.junit.jupiter.api.Test;

import java.net.URL;

import static org.junit.jupiter.api.Assertions.assertEquals;

class BuildVersionTest {

    @Test
    void theManifestVersionWins() throws Exception {
        assertEquals("0.1.0", BuildVersion.of("0.1.0", new URL("file:/opt/app/lib/dwcp-core-0.1.0.jar")));
        assertEquals("0.2.0-SNAPSHOT", BuildVersion.of(" 0.2.0-SNAPSHOT ", new URL("file:/repo/dwcp-core/target/classes/")));
    }

    @Test
    void classesFromADirectoryAreADevelopmentBuild() throws Exception {
        assertEquals("dev", BuildVersion.of(null, new URL("file:/repo/dwcp-core/target/classes/")));
        assertEquals("dev", BuildVersion.of("", null));
    }

    @Test
    void aJarWithoutTheEntryIsUnknownNotDev() throws Exception {
        assertEquals("unknown", BuildVersion.of(null, new URL("file:/opt/app/lib/dwcp-core.jar")));
        assertEquals("unknown", BuildVersion.of(null, new URL("jar:file:/opt/app/app.jar!/BOOT-INF/lib/dwcp-core.jar!/")));
    }

    @Test
    void inThisBuildTheTestsRunFromClassesSoTheVersionIsDev() {
        // Surefire puts target/classes on the class path: no manifest, no version.
        assertEquals("dev", BuildVersion.of(DwcpManager.class));
    }
}
