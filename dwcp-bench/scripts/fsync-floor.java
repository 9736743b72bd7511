// The disk's sync floor for a Raft log: appends N records of B bytes to a log file in DIR and forces each one to disk
// (FileChannel.force(false), as Ratis' log worker does for every batch with fsync on), and prints p50 / p90 / p99 / max
// of write + force in milliseconds. The first 100 records are not counted. With "prealloc" the file is first filled
// with zeros and forced, like a Ratis log segment (4 MiB preallocated), so a sync carries data, not a new file size.
//
//   java dwcp-bench/scripts/fsync-floor.java /var/tmp 2000 300 prealloc
//   java dwcp-bench/scripts/fsync-floor.java /var/tmp 2000 300 grow
//
// A commit acknowledged after fsync waits at least for the quorum RTT plus one such sync (a follower's; the leader's
// runs beside it), so RTT + this p50 is the least a local commit can take on this disk.
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;

public class FsyncFloor {
    public static void main(String[] a) throws Exception {
        if (a.length < 3) {
            System.err.println("usage: java fsync-floor.java DIR RECORDS BYTES [prealloc|grow]");
            System.exit(2);
        }
        Path file = Path.of(a[0]).resolve("fsync-floor-" + ProcessHandle.current().pid() + ".log");
        int n = Integer.parseInt(a[1]);
        int bytes = Integer.parseInt(a[2]);
        boolean prealloc = a.length > 3 && a[3].equals("prealloc");
        double[] ms = new double[n];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            if (prealloc) {
                ByteBuffer zeros = ByteBuffer.allocate(1 << 20);
                long mib = 4 + ((n + 100L) * bytes >> 20);
                for (long i = 0; i < mib; i++) {
                    zeros.clear();
                    ch.write(zeros, i << 20);
                }
                ch.force(true);
            }
            ByteBuffer record = ByteBuffer.allocate(bytes);
            new Random(1).nextBytes(record.array());
            for (int i = 0; i < n + 100; i++) {
                record.clear();
                long t0 = System.nanoTime();
                ch.write(record, (long) i * bytes);
                ch.force(false);
                long t = System.nanoTime() - t0;
                if (i >= 100) {
                    ms[i - 100] = t / 1e6;
                }
            }
        } finally {
            Files.deleteIfExists(file);
        }
        Arrays.sort(ms);
        System.out.printf("%d records of %d bytes, %s: write + force p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms%n",
                n, bytes, prealloc ? "preallocated file" : "growing file", ms[n / 2], ms[(int) (n * 0.9)],
                ms[(int) (n * 0.99)], ms[n - 1]);
    }
}
