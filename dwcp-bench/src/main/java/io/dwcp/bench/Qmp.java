package io.dwcp.bench;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A client of QEMU's machine protocol (QMP): newline-separated JSON over a unix socket ({@code -qmp
 * unix:PATH,server=on,wait=off}) or TCP ({@code tcp:HOST:PORT}). {@link #connect} reads the greeting and negotiates
 * capabilities; {@link #execute} sends one command and waits (bounded) for its reply. A reader thread of its own takes
 * replies and asynchronous events apart; events are kept in {@link #events()} with the time they arrived, and
 * {@link #awaitEvent} waits for one.
 *
 * <p>One command at a time (callers serialise); {@link #close()} closes the socket and stops the reader. QMP has no
 * authentication: expose its socket only to the control plane.
 */
final class Qmp implements AutoCloseable {
    private final String address;
    private final SocketChannel channel;
    private final Duration timeout;
    private final BlockingQueue<Object> replies = new LinkedBlockingQueue<>();
    /** Guarded by itself (waiters wait on it): events in arrival order. */
    private final List<Event> events = new ArrayList<>();
    /** Guarded by {@link #events}. */
    private boolean ended;
    private final Thread reader;
    private volatile Runnable onClosed = () -> { };

    private Qmp(String address, SocketChannel channel, Duration timeout) {
        this.address = address;
        this.channel = channel;
        this.timeout = timeout;
        this.reader = new Thread(this::readLoop, "dwcp-qmp-" + address);
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Connects to {@code address} (a unix socket path, or {@code tcp:HOST:PORT}) and enters command mode.
     *
     * @param address where QMP listens
     * @param timeout how long one command (and the greeting) may take
     * @return the client; close it
     * @throws IOException when the socket cannot be connected
     * @throws DwcpException {@code TIMEOUT} or {@code PROTOCOL_ERROR} when QEMU does not greet or accept capabilities
     */
    static Qmp connect(String address, Duration timeout) throws IOException {
        SocketAddress sa;
        SocketChannel ch;
        if (address.startsWith("tcp:")) {
            sa = NodeOptions.address(address.substring(4));
            ch = SocketChannel.open(StandardProtocolFamily.INET);
            if (((InetSocketAddress) sa).getAddress() != null && ((InetSocketAddress) sa).getAddress().getAddress().length == 16) {
                ch.close();
                ch = SocketChannel.open(StandardProtocolFamily.INET6);
            }
        } else {
            sa = UnixDomainSocketAddress.of(address);
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        }
        try {
            ch.connect(sa);
        } catch (IOException e) {
            ch.close();
            throw new IOException("cannot connect to QMP at " + address + ": " + e.getMessage(), e);
        }
        Qmp q = new Qmp(address, ch, timeout);
        try {
            Object greeting = q.next();
            if (!(greeting instanceof Map<?, ?> g) || !g.containsKey("QMP")) {
                throw new DwcpException(ErrorCode.PROTOCOL_ERROR, address + " did not greet as QMP: " + greeting);
            }
            q.execute("qmp_capabilities", Map.of());
            return q;
        } catch (RuntimeException e) {
            q.close();
            throw e;
        }
    }

    /**
     * Runs {@code command} and returns its {@code return} value.
     *
     * @param command the QMP command
     * @param arguments its arguments (may be empty)
     * @return the value QEMU returned (a map, list, string, number, or an empty map)
     * @throws DwcpException {@code ILLEGAL_STATE} with QEMU's error class and description when QEMU refuses the
     *     command; {@code TIMEOUT} when no reply comes in time; {@code IO_ERROR} when the connection is lost
     */
    Object execute(String command, Map<String, ?> arguments) {
        Map<String, Object> req = new LinkedHashMap<>();
        req.put("execute", command);
        if (!arguments.isEmpty()) {
            req.put("arguments", arguments);
        }
        byte[] line = (Json.write(req) + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            ByteBuffer b = ByteBuffer.wrap(line);
            while (b.hasRemaining()) {
                channel.write(b);
            }
        } catch (IOException e) {
            throw new DwcpException(ErrorCode.IO_ERROR, "QMP " + address + ": cannot send '" + command + "': " + e.getMessage(), e);
        }
        Object reply = next();
        if (!(reply instanceof Map<?, ?> m)) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "QMP " + address + ": unexpected reply to '" + command + "': " + reply);
        }
        if (m.get("error") instanceof Map<?, ?> err) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, "QEMU at " + address + " refused '" + command + "': "
                    + err.get("class") + ": " + err.get("desc"));
        }
        Object r = m.get("return");
        return r == null ? Map.of() : r;
    }

    /** {@code execute} for a command whose reply is an object. */
    @SuppressWarnings("unchecked")
    Map<String, Object> query(String command) {
        Object r = execute(command, Map.of());
        if (!(r instanceof Map<?, ?>)) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "QMP " + address + ": '" + command + "' returned " + r);
        }
        return (Map<String, Object>) r;
    }

    /** {@return the VM's run state, e.g. {@code running}, {@code paused}, {@code inmigrate}, {@code postmigrate}} */
    String status() {
        return String.valueOf(query("query-status").get("status"));
    }

    /**
     * An asynchronous event and when it arrived.
     *
     * @param body the event as QEMU sent it ({@code event}, {@code data}, {@code timestamp})
     * @param receivedNanos {@link System#nanoTime()} when the reader took it off the socket
     */
    record Event(Map<String, Object> body, long receivedNanos) {
        /** {@return the event's name, e.g. {@code STOP}} */
        String name() {
            return String.valueOf(body.get("event"));
        }

        /** {@return the event's {@code data} member, empty when it has none} */
        @SuppressWarnings("unchecked")
        Map<String, Object> data() {
            return body.get("data") instanceof Map<?, ?> d ? (Map<String, Object>) d : Map.of();
        }

        /**
         * When QEMU emitted the event, on this process's {@link System#nanoTime()} scale: QEMU's timestamp is the host's
         * wall clock, so this is only meaningful for a QEMU on this host. Falls back to the arrival time when the event
         * has no timestamp.
         *
         * @return the emission time in nanoTime units
         */
        long emittedNanos() {
            if (!(body.get("timestamp") instanceof Map<?, ?> ts) || !(ts.get("seconds") instanceof Number sec)
                    || !(ts.get("microseconds") instanceof Number us)) {
                return receivedNanos;
            }
            java.time.Instant now = java.time.Instant.now();
            long nowNanos = System.nanoTime();
            long emittedEpochNanos = sec.longValue() * 1_000_000_000L + us.longValue() * 1000L;
            long nowEpochNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
            return nowNanos - (nowEpochNanos - emittedEpochNanos);
        }
    }

    /** {@return the asynchronous events received so far} */
    List<Map<String, Object>> events() {
        synchronized (events) {
            return events.stream().map(Event::body).toList();
        }
    }

    /** {@return how many events were received so far: a mark for {@link #awaitEvent}} */
    int eventCount() {
        synchronized (events) {
            return events.size();
        }
    }

    /**
     * Waits for the first event from the {@code from}-th one received on (see {@link #eventCount()}) that {@code match}
     * accepts.
     *
     * @param from index of the first event to look at
     * @param match which event
     * @param timeout how long to wait
     * @param what what is awaited, for the error message
     * @return the event
     * @throws DwcpException {@code TIMEOUT} when none came in time, {@code IO_ERROR} when the connection ended first,
     *     {@code CANCELLED} when interrupted
     */
    Event awaitEvent(int from, Predicate<Event> match, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (events) {
            int i = from;
            while (true) {
                for (; i < events.size(); i++) {
                    if (match.test(events.get(i))) {
                        return events.get(i);
                    }
                }
                if (ended) {
                    throw new DwcpException(ErrorCode.IO_ERROR, "QMP " + address + " closed while waiting for " + what);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new DwcpException(ErrorCode.TIMEOUT, "QMP " + address + ": no " + what + " within "
                            + timeout.toMillis() + " ms");
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(events, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new DwcpException(ErrorCode.CANCELLED, "interrupted while waiting for " + what, e);
                }
            }
        }
    }

    private Object next() {
        Object r;
        try {
            r = replies.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DwcpException(ErrorCode.CANCELLED, "interrupted while waiting for QMP " + address, e);
        }
        if (r == null) {
            throw new DwcpException(ErrorCode.TIMEOUT, "QMP " + address + " did not answer within " + timeout.toMillis() + " ms");
        }
        if (r instanceof Throwable t) {
            replies.add(r);     // every later call fails the same way
            throw new DwcpException(ErrorCode.IO_ERROR, "QMP " + address + " connection lost: " + t.getMessage(), t);
        }
        return r;
    }

    @SuppressWarnings("unchecked")
    private void readLoop() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                Object msg = JsonReader.parse(line, "QMP " + address);
                if (msg instanceof Map<?, ?> m && m.containsKey("event")) {
                    Event ev = new Event((Map<String, Object>) m, System.nanoTime());
                    synchronized (events) {
                        events.add(ev);
                        events.notifyAll();
                    }
                } else {
                    replies.add(msg);
                }
            }
            replies.add(new IOException("closed by QEMU"));
        } catch (IOException | RuntimeException e) {
            replies.add(e);
        }
        synchronized (events) {
            ended = true;
            events.notifyAll();
        }
        onClosed.run();
    }

    /**
     * Runs {@code action} on the reader thread when the connection ends (QEMU exited or closed it, or {@link #close()}).
     *
     * @param action what to do; must not block
     */
    void onClosed(Runnable action) {
        this.onClosed = action;
        if (!reader.isAlive()) {
            action.run();
        }
    }

    /** Closes the socket; the reader stops. Idempotent. */
    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
    }

    @Override
    public String toString() {
        return "Qmp[" + address + "]";
    }
}
