package io.dwcp.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code dwcp partition}: a gpmetis-style partition file, and exit 2 with a line-numbered message on a bad graph. */
class PartitionCommandTest {
    @Test
    void writesOneBlockPerVertex(@TempDir Path dir) throws Exception {
        Path graph = dir.resolve("path.graph");
        Files.writeString(graph, "% path of 6\n6 5\n2\n1 3\n2 4\n3 5\n4 6\n5\n");
        Path out = dir.resolve("path.2.part");
        assertEquals(0, DwcpCli.run(new String[]{"partition", "--graph", graph.toString(), "--k", "2", "--imbalance", "0",
                "--out", out.toString(), "--json"}));
        List<String> lines = Files.readAllLines(out);
        // The only balanced bisection of a path with cut 1 is its two halves (block ids may be swapped).
        String a = lines.get(0);
        String b = a.equals("0") ? "1" : "0";
        assertEquals(List.of(a, a, a, b, b, b), lines);
    }

    @Test
    void malformedGraphExitsWithTwo(@TempDir Path dir) throws Exception {
        Path graph = dir.resolve("bad.graph");
        Files.writeString(graph, "3 2\n2\n1 1\n");
        assertEquals(2, DwcpCli.run(new String[]{"partition", "--graph", graph.toString(), "--k", "2", "--out",
                dir.resolve("x.part").toString()}));
        assertTrue(Files.notExists(dir.resolve("x.part")));
    }
}
