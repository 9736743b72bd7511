package io.dwcp.core.state;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The state model reads multi-GiB sparse files region by region without loading them: this module's tests run with
 * a 192 MiB heap (see dwcp-core/pom.xml), so any whole-region copy onto the heap fails with OutOfMemoryError.
 */
@Tag("CORE-2")
class StateRegionsTest {
    private static final long GIB = 1L << 30;
    private static final int PAGE = 4096;

    /** A 3 GiB + 8 KiB sparse file with a marker page at offsets that cross the 2 GiB and mapping-window bounds. */
    private static final long FILE_SIZE = 3 * GIB + 2 * PAGE;
    private static final long[] MARKERS = {0, GIB - PAGE, GIB, 2 * GIB - PAGE, 2 * GIB, 2 * GIB + PAGE, 3 * GIB + PAGE};

    private static Path sparseFile(Path dir) throws IOException {
        Path p = dir.resolve("guest.ram");
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(FILE_SIZE);
            for (long m : MARKERS) {
                f.seek(m);
                f.write(markerPage(m));
            }
        }
        return p;
    }

    private static byte[] markerPage(long offset) {
        byte[] page = new byte[PAGE];
        for (int i = 0; i < PAGE; i += 8) {
            ByteBuffer.wrap(page, i, 8).putLong(offset ^ i);
        }
        return page;
    }

    /** CRC32C of the whole file computed independently, through FileChannel reads of 1 MiB. */
    private static long crcOf(Path p) throws IOException {
        CRC32C crc = new CRC32C();
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            while (ch.read(buf) > 0) {
                buf.flip();
                crc.update(buf);
                buf.clear();
            }
        }
        return crc.getValue();
    }

    /** Reads every page of every region in order, through a 64-page direct buffer, checking the markers. */
    private static long readAll(VmState<StateRegion> state) throws IOException {
        CRC32C crc = new CRC32C();
        ByteBuffer buf = ByteBuffer.allocateDirect(64 * PAGE);
        long base = 0;
        int markersSeen = 0;
        for (StateRegion r : state.regions()) {
            for (long off = 0; off < r.sizeBytes(); off += buf.capacity()) {
                buf.clear().limit((int) Math.min(buf.capacity(), r.sizeBytes() - off));
                r.read(off, buf);
                buf.flip();
                for (long m : MARKERS) {
                    long abs = base + off;
                    if (m >= abs && m < abs + buf.limit()) {
                        byte[] page = new byte[PAGE];
                        buf.duplicate().position((int) (m - abs)).get(page);
                        assertTrue(java.util.Arrays.equals(markerPage(m), page), "marker at " + m);
                        markersSeen++;
                    }
                }
                crc.update(buf);
            }
            base += r.sizeBytes();
        }
        assertEquals(MARKERS.length, markersSeen);
        return crc.getValue();
    }

    @Test
    void readsASparseMultiGibFileRegionByRegionWithBoundedHeap(@TempDir Path dir) throws IOException {
        Path p = sparseFile(dir);
        long expected = crcOf(p);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            long split = 2 * GIB + PAGE;
            VmState<StateRegion> state = VmState.of("vm-1",
                    StateRegions.ofChannel("low", ch, 0, split),
                    StateRegions.ofChannel("high", ch, split, FILE_SIZE - split));
            assertEquals(FILE_SIZE, state.totalBytes());
            assertEquals(FILE_SIZE / PAGE, state.totalPages());
            assertEquals(expected, readAll(state));
        }
    }

    @Test
    void aMappedRegionReadsHolesWithReadCallsAndAnInterruptedReaderLeavesItUsable(@TempDir Path dir) throws IOException {
        // A small sparse file: one page of data, the rest holes (not in memory, so read with read calls).
        Path p = dir.resolve("holes.ram");
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(markerPage(0)), 0);
            ch.write(ByteBuffer.allocate(1), 64L * PAGE - 1);
        }
        try (StateRegion mapped = StateRegions.mapped(p)) {
            // The data page (in memory: copied from the mapping, which this maps).
            ByteBuffer first = ByteBuffer.allocate(PAGE);
            mapped.read(0, first);
            assertTrue(java.util.Arrays.equals(markerPage(0), first.array()), "the data page");
            // An interrupted thread's read of pages not in memory fails, as a read call of an interruptible channel
            // does; the region stays usable for the next read of such pages.
            Thread.currentThread().interrupt();
            try {
                assertThrows(IOException.class, () -> mapped.read(8L * PAGE, ByteBuffer.allocate(PAGE)));
            } finally {
                Thread.interrupted();
            }
            ByteBuffer again = ByteBuffer.allocate(PAGE);
            mapped.read(32L * PAGE, again);
            assertEquals(PAGE, again.position(), "read in full after an interrupted read");
            ByteBuffer all = ByteBuffer.allocate(64 * PAGE);
            mapped.read(0, all);
            byte[] got = new byte[PAGE];
            all.get(0, got);
            assertTrue(java.util.Arrays.equals(markerPage(0), got), "the data page");
            for (int i = PAGE; i < 64 * PAGE; i++) {
                assertEquals(0, all.get(i), "byte " + i + " of the holes");
            }
        }
    }

    @Test
    void viewsShareMemoryWithoutCopyingAndStayInsideOneWindow(@TempDir Path dir) throws IOException {
        Path p = sparseFile(dir);
        try (StateRegion mapped = StateRegions.mapped(p)) {
            ByteBuffer v = mapped.view(GIB, PAGE);
            assertTrue(v.isReadOnly());
            assertEquals(PAGE, v.remaining());
            byte[] got = new byte[PAGE];
            v.get(0, got);
            assertTrue(java.util.Arrays.equals(markerPage(GIB), got), "view index 0 is the requested offset");
            assertNull(mapped.view(GIB - PAGE, 2 * PAGE), "a range across mapping windows has no single view");
            assertThrows(IndexOutOfBoundsException.class, () -> mapped.view(FILE_SIZE - PAGE, 2 * PAGE));
        }
        ByteBuffer memory = ByteBuffer.allocate(4 * PAGE);
        WritableRegion region = StateRegions.ofBuffer("ram", memory);
        ByteBuffer view = region.view(PAGE, PAGE);
        memory.put(PAGE + 5, (byte) 42);
        assertEquals(42, view.get(5), "the view shares the region's memory");
        try (StateRegion file = StateRegions.ofFile(p)) {
            assertNull(file.view(0, PAGE), "a file read through a channel has no view");
        }
    }

    @Test
    void onlyASnapshotMappingIsImmutableAndItsViewsOutliveTheRegion(@TempDir Path dir) throws IOException {
        Path p = sparseFile(dir);
        ByteBuffer view;
        try (StateRegion snapshot = StateRegions.mappedSnapshot(p); StateRegion mapped = StateRegions.mapped(p);
             StateRegion file = StateRegions.ofFile(p)) {
            assertTrue(snapshot.immutable());
            assertFalse(mapped.immutable(), "a plain mapping makes no promise");
            assertFalse(file.immutable());
            assertFalse(StateRegions.allocateDirect("ram", PAGE).immutable());
            view = snapshot.view(GIB, PAGE);
        }
        byte[] got = new byte[PAGE];
        view.get(0, got);
        assertTrue(java.util.Arrays.equals(markerPage(GIB), got), "a view taken before close still reads the file");
    }

    @Test
    void memoryCopiesInParallelAFileDoesNot(@TempDir Path dir) throws IOException {
        assertTrue(StateRegions.ofBuffer("ram", ByteBuffer.allocate(PAGE)).parallelWrites());
        try (WritableRegion file = StateRegions.fileReplica("ram", dir.resolve("replica.ram"), PAGE)) {
            assertFalse(file.parallelWrites(), "writers of one file serialise in the kernel");
        }
    }

    @Test
    void aFileReplicaCanBeWrittenThroughAMapping(@TempDir Path dir) throws IOException {
        assertFalse(StateRegions.ofBuffer("ram", ByteBuffer.allocate(PAGE)).mappable());
        assertThrows(UnsupportedOperationException.class,
                () -> StateRegions.ofBuffer("ram", ByteBuffer.allocate(PAGE)).mapWritable(0, PAGE));
        Path p = dir.resolve("replica.ram");
        try (WritableRegion file = StateRegions.fileReplica("ram", p, 4 * PAGE)) {
            assertTrue(file.mappable());
            ByteBuffer view = file.mapWritable(PAGE, 2 * PAGE);
            view.put(0, (byte) 7).put(2 * PAGE - 1, (byte) 9);
            ByteBuffer back = ByteBuffer.allocate(2 * PAGE);
            file.read(PAGE, back);
            assertEquals(7, back.get(0), "a put into the view is a write to the file");
            assertEquals(9, back.get(2 * PAGE - 1));
            file.write(PAGE + 1, ByteBuffer.wrap(new byte[] {5}));
            assertEquals(5, view.get(1), "a write to the file shows in the view");
            file.flush();
            assertThrows(IndexOutOfBoundsException.class, () -> file.mapWritable(3 * PAGE, 2 * PAGE));
        }
        byte[] onDisk = java.nio.file.Files.readAllBytes(p);
        assertEquals(7, onDisk[PAGE]);
        assertEquals(9, onDisk[3 * PAGE - 1]);
    }

    @Test
    void mappedRegionReadsAcrossWindowBoundaries(@TempDir Path dir) throws IOException {
        Path p = sparseFile(dir);
        long expected = crcOf(p);
        try (StateRegion mapped = StateRegions.mapped(p)) {
            assertEquals(expected, readAll(VmState.of("vm-1", mapped)));
            // one read that straddles the 1 GiB window bound
            ByteBuffer straddle = ByteBuffer.allocate(2 * PAGE);
            mapped.read(GIB - PAGE, straddle);
            straddle.flip();
            byte[] first = new byte[PAGE];
            straddle.get(first);
            assertTrue(java.util.Arrays.equals(markerPage(GIB - PAGE), first));
        }
    }

    @Test
    void fileRegionOwnsItsFile(@TempDir Path dir) throws IOException {
        Path p = sparseFile(dir);
        StateRegion r = StateRegions.ofFile(p);
        assertEquals(FILE_SIZE, r.sizeBytes());
        r.close();
        r.close(); // idempotent
        assertThrows(java.nio.channels.ClosedChannelException.class, () -> r.read(0, ByteBuffer.allocate(8)));
    }

    @Test
    void readsOutsideTheRegionAreRefused() {
        WritableRegion r = StateRegions.allocateDirect("ram", 8 * PAGE);
        assertThrows(IndexOutOfBoundsException.class, () -> r.read(7 * PAGE + 1, ByteBuffer.allocate(PAGE)));
        assertThrows(IndexOutOfBoundsException.class, () -> r.read(-1, ByteBuffer.allocate(1)));
        assertThrows(IndexOutOfBoundsException.class, () -> r.write(Long.MAX_VALUE - 2, ByteBuffer.allocate(8)));
    }

    @Test
    void fileReplicaIsSparseAndWritable(@TempDir Path dir) throws IOException {
        Path p = dir.resolve("replica.ram");
        try (WritableRegion r = StateRegions.fileReplica("ram", p, 2 * GIB)) {
            r.write(2 * GIB - PAGE, ByteBuffer.wrap(markerPage(7)));
            ByteBuffer back = ByteBuffer.allocate(PAGE);
            r.read(2 * GIB - PAGE, back);
            assertTrue(java.util.Arrays.equals(markerPage(7), back.array()));
            ByteBuffer zeros = ByteBuffer.allocate(PAGE);
            r.read(GIB, zeros);
            assertEquals(ByteBuffer.allocate(PAGE), zeros.flip());
            r.flush();
        }
        assertEquals(2 * GIB, java.nio.file.Files.size(p));
    }

    @Test
    void bufferRegionWritesThrough() throws IOException {
        ByteBuffer backing = ByteBuffer.allocate(4 * PAGE);
        WritableRegion r = StateRegions.ofBuffer("ram", backing);
        r.write(PAGE, ByteBuffer.wrap(markerPage(1)));
        assertEquals(markerPage(1)[7], backing.get(PAGE + 7));
        ByteBuffer out = ByteBuffer.allocate(PAGE);
        r.read(PAGE, out);
        assertTrue(java.util.Arrays.equals(markerPage(1), out.array()));
    }

    @Test
    void statesMustBeWholePagesUnlessDeclaredPartial() {
        WritableRegion odd = StateRegions.allocateDirect("disk", 3 * PAGE + 100);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VmState.<WritableRegion>builder("vm").region(odd).build());
        assertTrue(e.getMessage().contains("lastPagePartial(true)"), e.getMessage());
        VmState<WritableRegion> s = VmState.<WritableRegion>builder("vm").region(odd).lastPagePartial(true).build();
        assertEquals(4, s.pageCount(0));
    }

    @Test
    void stateValidatesKeyNamesAndPageSize() {
        assertThrows(IllegalArgumentException.class, () -> VmState.builder(""));
        assertThrows(IllegalArgumentException.class, () -> VmState.builder("vm").pageSizeBytes(3000));
        WritableRegion a = StateRegions.allocateDirect("ram", PAGE);
        WritableRegion b = StateRegions.allocateDirect("ram", PAGE);
        assertThrows(IllegalArgumentException.class, () -> VmState.<WritableRegion>builder("vm").region(a).region(b).build());
    }
}
