package io.dwcp.consensus;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PortReservationTest {
    @TempDir
    Path locks;

    /** A random 16-port window below the ephemeral range, so concurrent test runs rarely share one. */
    private static int windowLow() {
        return PortReservation.RANGE_LOW + 16 * ThreadLocalRandom.current().nextInt(600);
    }

    @Test
    void twoReservationsNeverShareAPortAndRunOutInsteadOfReusing() throws IOException {
        int low = windowLow();
        Set<Integer> seen = new HashSet<>();
        int taken = 0;
        try (PortReservation a = new PortReservation(locks, low, low + 16);
             PortReservation b = new PortReservation(locks, low, low + 16)) {
            boolean aDone = false;
            boolean bDone = false;
            while (!aDone || !bDone) {
                for (PortReservation r : List.of(a, b)) {
                    try {
                        int port = r.next();
                        assertTrue(port >= low && port < low + 16, "port " + port + " outside the window");
                        assertTrue(seen.add(port), "port " + port + " handed out twice");
                        taken++;
                    } catch (IOException exhausted) {
                        if (r == a) {
                            aDone = true;
                        } else {
                            bDone = true;
                        }
                    }
                }
            }
        }
        assertTrue(taken > 0 && taken <= 16, "took " + taken);
        try (PortReservation again = new PortReservation(locks, low, low + 16)) {
            assertTrue(seen.contains(again.next()), "ports released by close() are handed out again");
        }
    }

    @Test
    void defaultRangeEndsWhereTheKernelsEphemeralRangeBegins() throws IOException {
        int low = PortReservation.ephemeralLow();
        assertTrue(low > PortReservation.RANGE_LOW + 1000, "ephemeral range starts at " + low);
        try (PortReservation r = new PortReservation()) {
            int port = r.next();
            assertTrue(port >= PortReservation.RANGE_LOW && port < low, "port " + port);
        }
    }

    @Test
    void skipsAPortSomeoneElseHasBound() throws IOException {
        try (ServerSocket foreign = new ServerSocket()) {
            foreign.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int port = foreign.getLocalPort();
            try (PortReservation r = new PortReservation(locks, port, port + 1)) {
                assertThrows(IOException.class, r::next);
            }
        }
    }

    @Test
    void anotherProcessCannotReserveWhatThisOneHolds() throws Exception {
        int low = windowLow();
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx32m", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                Holder.class.getName(), locks.toString(), String.valueOf(low), String.valueOf(low + 4))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        int held;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line = out.readLine();
            assertTrue(line != null && line.startsWith("HELD "), "child said " + line);
            held = Integer.parseInt(line.substring(5));
            assertTrue(held >= 1, "the child reserved no port of " + low + "-" + (low + 3));
            try (PortReservation mine = new PortReservation(locks, low, low + 4)) {
                // the child holds what it could bind; the rest of the window is bound by someone else
                assertThrows(IOException.class, mine::next, "the child's ports must stay reserved");
            }
            child.getOutputStream().close(); // the child releases its ports and exits
            assertTrue(child.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, child.exitValue());
        } finally {
            child.destroyForcibly();
        }
        try (PortReservation after = new PortReservation(locks, low, low + 4)) {
            for (int i = 0; i < held; i++) {
                after.next(); // the exited child's ports are free again
            }
        }
    }

    /** Child process: reserves every port it can in [low, high), prints {@code HELD n}, holds until stdin closes. */
    static final class Holder {
        public static void main(String[] args) throws IOException {
            int low = Integer.parseInt(args[1]);
            int high = Integer.parseInt(args[2]);
            try (PortReservation r = new PortReservation(Path.of(args[0]), low, high)) {
                int n = 0;
                for (int i = low; i < high; i++) {
                    try {
                        r.next();
                        n++;
                    } catch (IOException e) {
                        break;
                    }
                }
                System.out.println("HELD " + n);
                System.out.flush();
                while (System.in.read() != -1) {
                    // hold until the parent closes our input
                }
            }
        }
    }
}
