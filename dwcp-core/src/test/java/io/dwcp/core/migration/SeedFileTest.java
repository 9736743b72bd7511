package io.dwcp.core.migration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A seed read through its mapping reads what a read call reads: its bytes, and zeros past its end. */
class SeedFileTest {
    private static final int PAGE = 4096;

    @Test
    void readsTheFileAndZerosPastItsEndAsReadCallsDo(@TempDir Path dir) throws Exception {
        byte[] bytes = new byte[5 * PAGE + 123];
        new Random(3).nextBytes(bytes);
        Path file = Files.write(dir.resolve("image"), bytes);
        try (SeedFile mapped = SeedFile.map(file); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            for (long at : new long[] {0, PAGE, 4L * PAGE, 5L * PAGE, 6L * PAGE, 17}) {
                ByteBuffer a = ByteBuffer.allocateDirect(PAGE);
                ByteBuffer b = ByteBuffer.allocate(PAGE);
                mapped.read(a, at);
                SeedDescription.readSeed(ch, b, at);
                assertArrayEquals(array(b.flip()), array(a.flip()), "at " + at);
            }
            // A page past the end is all zeros.
            ByteBuffer past = ByteBuffer.allocate(PAGE);
            mapped.read(past, 7L * PAGE);
            assertArrayEquals(new byte[PAGE], array(past.flip()));
        }
    }

    @Test
    void aClosedMappingIsNotRead(@TempDir Path dir) throws Exception {
        Path file = Files.write(dir.resolve("image"), new byte[PAGE]);
        SeedFile mapped = SeedFile.map(file);
        mapped.close();
        mapped.close(); // idempotent
        assertThrows(IOException.class, () -> mapped.read(ByteBuffer.allocate(PAGE), 0));
    }

    private static byte[] array(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }
}
