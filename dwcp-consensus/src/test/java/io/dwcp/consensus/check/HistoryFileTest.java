package io.dwcp.consensus.check;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HistoryFileTest {
    @Test
    void historiesRoundTripThroughJsonLines(@TempDir Path dir) throws IOException {
        List<Operation> ops = List.of(
                Operation.read(1, "k", null, 10, 20),
                new Operation(2, Operation.Kind.CAS, "vm/\"x\"\\owner", "site-a", "site-b\n", "site-b\n", true, 42,
                        Operation.Outcome.OK, 30, 40),
                Operation.write(3, "k", "v\u0001", 50, 60).indeterminate(),
                new Operation(4, Operation.Kind.WRITE, "k", null, "w", null, false, 0, Operation.Outcome.FAIL, 70, 80));
        Path f = dir.resolve("h.jsonl");
        HistoryFile.write(f, ops);
        assertEquals(ops, HistoryFile.read(f));
    }

    @Test
    void badLinesNameTheLineAndTheProblem(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("bad.jsonl");
        Files.writeString(f, "# comment\n\n" + HistoryFile.line(Operation.read(1, "k", "v", 1, 2)) + "\n"
                + "{\"process\":1,\"kind\":\"swap\",\"key\":\"k\",\"outcome\":\"ok\",\"call\":1,\"return\":2}\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HistoryFile.read(f));
        assertTrue(e.getMessage().contains("line 4") && e.getMessage().contains("'swap' is not a kind"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> HistoryFile.parse("{\"process\":1,\"bogus\":2}"));
        assertThrows(IllegalArgumentException.class, () -> HistoryFile.parse("{\"process\":1"));
        assertThrows(IllegalArgumentException.class, () -> HistoryFile.parse(
                "{\"process\":1,\"kind\":\"read\",\"key\":\"k\",\"outcome\":\"ok\",\"call\":5,\"return\":2}"));
    }
}
