package io.dwcp.bench;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code qemu-migrate --verify-replica}'s byte comparison of the replica with the paused source RAM. */
class ReplicaCompareTest {
    private static final long SIZE = (40L << 20) + 4096;

    /** A sparse file of {@link #SIZE} bytes with {@code marker} written at {@code at}. */
    private static Path ram(Path dir, String name, long at, byte marker) throws IOException {
        Path p = dir.resolve(name);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {7, 7, 7}), 5);
            ch.write(ByteBuffer.wrap(new byte[] {marker}), at);
            ch.write(ByteBuffer.allocate(1), SIZE - 1);
        }
        return p;
    }

    @Test
    void equalFilesPassAndTheFirstDifferenceIsNamedByByteAndPage(@TempDir Path dir) throws IOException {
        long at = (33L << 20) + 3 * 4096 + 10;
        Path source = ram(dir, "source", at, (byte) 1);
        QemuMigrationRun.compare(source, ram(dir, "same", at, (byte) 1));
        DwcpException e = assertThrows(DwcpException.class,
                () -> QemuMigrationRun.compare(source, ram(dir, "other", at, (byte) 2)));
        assertEquals(ErrorCode.CHECKSUM_MISMATCH, e.code());
        assertTrue(e.getMessage().contains("at byte " + at + " (page " + at / 4096 + ")"), e.getMessage());
    }

    @Test
    void filesOfDifferentSizesAreRefused(@TempDir Path dir) throws IOException {
        Path source = ram(dir, "source", 100, (byte) 1);
        Path shorter = dir.resolve("shorter");
        try (FileChannel ch = FileChannel.open(shorter, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(1), SIZE - 4097);
        }
        DwcpException e = assertThrows(DwcpException.class, () -> QemuMigrationRun.compare(source, shorter));
        assertEquals(ErrorCode.CHECKSUM_MISMATCH, e.code());
    }
}
