package io.dwcp.core.config;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * docs/configuration.md is generated from the schema and must not drift from it. To regenerate after a
 * schema change: {@code ./mvnw -pl dwcp-core test -Dtest=ConfigReferenceDocTest -Ddwcp.docs.write=true}.
 */
class ConfigReferenceDocTest {
    static final String HEADER = "# Configuration reference\n\n"
            + "Generated from the schema in `dwcp-core` (`ConfigSchema.markdownReference()`); do not edit by hand.\n"
            + "Regenerate with `./mvnw -pl dwcp-core test -Dtest=ConfigReferenceDocTest -Ddwcp.docs.write=true`.\n\n"
            + "Keys are set, in rising precedence, by defaults, a `.properties` or `.yaml` file "
            + "(`DwcpConfig.builder().file(path)`), system properties (`-Ddwcp.…`) or environment variables "
            + "(`DWCP_TRANSPORT_MAX_STREAMS`), and builder calls. Sizes, durations and rates need their unit "
            + "(`256KiB`, `250ms`, `400Mbit/s`). Defaults written `a / b / c` are per tier (local / regional / wan).\n\n";

    @Test
    void docsMatchTheSchema() throws IOException {
        Path doc = Path.of("..", "docs", "configuration.md");
        String expected = HEADER + ConfigSchema.markdownReference();
        if (Boolean.getBoolean("dwcp.docs.write")) {
            Files.writeString(doc, expected, StandardCharsets.UTF_8);
        }
        assertEquals(expected, Files.readString(doc, StandardCharsets.UTF_8),
                "docs/configuration.md is out of date: regenerate it (see this test's Javadoc)");
    }
}
