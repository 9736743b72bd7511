package io.dwcp.bench;

import io.dwcp.core.transport.TransferKind;
import io.dwcp.transport.wire.FrameHeader;
import io.dwcp.transport.wire.Frames;
import io.dwcp.transport.wire.Hello;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code dwcp hostile-peer --to HOST:PORT}: a misbehaving AMST peer for the "legitimate send under a hostile peer"
 * benchmark (plaintext only). From its own local address ({@code --bind}, default 127.0.0.2, so that the receiver
 * counts it as another peer than a sender on 127.0.0.1) it holds {@code --sessions} sessions (default 8, the
 * receiver's default per-peer cap) that answer every PING so they never time out, opens {@code --transfers}
 * transfers (default 64, the per-peer cap) spread over them that announce 1 GiB and never send a byte, and keeps
 * {@code --flood} further TCP connections (default 256) that never send a HELLO, reconnecting each as soon as the
 * receiver drops it. A transfer the receiver aborts (an idle-transfer timeout) is replaced by a new one at once, so the
 * count stays at its maximum. Prints one line "hostile peer holding ..." once everything is in place, then runs until killed.
 * Blocking sockets, one thread per connection: it is a load generator, not a product path.
 */
final class HostilePeerCommand implements DwcpCli.Command {
    private static final long ANNOUNCED_BYTES = 1L << 30;
    /** Transfer ids of this (connecting) side are odd. */
    private static final java.util.concurrent.atomic.AtomicLong NEXT_ID = new java.util.concurrent.atomic.AtomicLong(1);

    @Override
    public String summary() {
        return "benchmark load: a peer that holds its maximum of sessions and idle transfers and floods connections";
    }

    @Override
    public int run(String[] args) throws Exception {
        CliArgs a = new CliArgs(args, Set.of("to", "bind", "sessions", "transfers", "flood"), Set.of("help"));
        if (a.flag("help") || a.get("to") == null) {
            System.err.println("usage: dwcp hostile-peer --to HOST:PORT [--bind 127.0.0.2] [--sessions 8] [--transfers 64]"
                    + " [--flood 256]");
            return a.flag("help") ? 0 : 2;
        }
        String[] hp = a.get("to").split(":");
        InetSocketAddress to = new InetSocketAddress(hp[0], Integer.parseInt(hp[1]));
        InetAddress bind = InetAddress.getByName(a.get("bind", "127.0.0.2"));
        int sessions = Integer.parseInt(a.get("sessions", "8"));
        int transfers = Integer.parseInt(a.get("transfers", "64"));
        int flood = Integer.parseInt(a.get("flood", "256"));

        List<Socket> held = new ArrayList<>();
        SecureRandom random = new SecureRandom();
        int opened = 0;
        for (int i = 0; i < sessions; i++) {
            Socket s = new Socket();
            s.bind(new InetSocketAddress(bind, 0));
            s.connect(to, 10_000);
            byte[] id = new byte[16];
            random.nextBytes(id);
            write(s.getOutputStream(), new Hello(id, 0, Hello.CAPABILITIES, 64L << 20, new byte[16])
                    .encode(UnpooledByteBufAllocator.DEFAULT, 0));
            DataInputStream in = new DataInputStream(s.getInputStream());
            byte[] ack = readFrame(in);
            if (ack[FrameHeader.TYPE_OFFSET] != FrameHeader.TYPE_HELLO_ACK || ack[FrameHeader.HEADER_LENGTH] == 0) {
                System.err.println("hostile peer: session " + i + " refused");
                s.close();
                continue;
            }
            held.add(s);
            startPonger(s, in);
        }
        // Transfers: odd ids (the connecting side's), spread over the sessions, announced and never fed.
        for (int t = 0; t < transfers && !held.isEmpty(); t++) {
            Socket s = held.get(t % held.size());
            openTransfer(s);
            opened++;
        }
        CountDownLatch firstRound = new CountDownLatch(flood);
        AtomicInteger reconnects = new AtomicInteger();
        for (int f = 0; f < flood; f++) {
            Thread th = new Thread(() -> floodOne(to, bind, firstRound, reconnects), "hostile-flood-" + f);
            th.setDaemon(true);
            th.start();
        }
        firstRound.await();
        System.out.println("hostile peer holding " + held.size() + " sessions, " + opened + " idle transfers, " + flood
                + " idle connections from " + bind.getHostAddress() + " to " + to);
        System.out.flush();
        new CountDownLatch(1).await();
        return 0;
    }

    /** Announces one transfer of 1 GiB on session {@code s} that will never get a byte. */
    private static void openTransfer(Socket s) throws IOException {
        long id = NEXT_ID.getAndAdd(2);
        synchronized (s) {
            write(s.getOutputStream(), Frames.open(UnpooledByteBufAllocator.DEFAULT, id, TransferKind.MEMORY.wire(),
                    "hostile-" + id, ANNOUNCED_BYTES));
        }
    }

    /** Answers every PING on a held session with a PONG, replaces an aborted transfer; ignores everything else. */
    private static void startPonger(Socket s, DataInputStream in) {
        Thread th = new Thread(() -> {
            try {
                while (true) {
                    byte[] f = readFrame(in);
                    if (f[FrameHeader.TYPE_OFFSET] == FrameHeader.TYPE_PING) {
                        long stamp = Unpooled.wrappedBuffer(f).getLong(FrameHeader.HEADER_LENGTH);
                        synchronized (s) {
                            write(s.getOutputStream(), Frames.ping(UnpooledByteBufAllocator.DEFAULT, FrameHeader.TYPE_PONG, stamp));
                        }
                    } else if (f[FrameHeader.TYPE_OFFSET] == FrameHeader.TYPE_ABORT) {
                        openTransfer(s);
                    }
                }
            } catch (IOException e) {
                System.err.println("hostile peer: a held session ended: " + e.getMessage());
            }
        }, "hostile-pong");
        th.setDaemon(true);
        th.start();
    }

    /** Keeps one connection open that never says HELLO; reconnects whenever the receiver drops it. */
    private static void floodOne(InetSocketAddress to, InetAddress bind, CountDownLatch firstRound, AtomicInteger reconnects) {
        boolean counted = false;
        while (true) {
            try (Socket s = new Socket()) {
                s.bind(new InetSocketAddress(bind, 0));
                s.connect(to, 10_000);
                if (!counted) {
                    firstRound.countDown();
                    counted = true;
                }
                while (s.getInputStream().read() >= 0) {
                    // Drain the GOAWAY; wait for the close.
                }
            } catch (IOException e) {
                if (!counted) {
                    firstRound.countDown();
                    counted = true;
                }
                pause();
            }
            reconnects.incrementAndGet();
        }
    }

    /** After a refused connect: 100 ms, so a refusing receiver is not spun against. */
    private static void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void write(OutputStream out, ByteBuf frame) throws IOException {
        try {
            out.write(ByteBufUtil.getBytes(frame));
            out.flush();
        } finally {
            frame.release();
        }
    }

    /** One whole frame (header and payload) from {@code in}. */
    private static byte[] readFrame(DataInputStream in) throws IOException {
        byte[] header = new byte[FrameHeader.HEADER_LENGTH];
        in.readFully(header);
        long len = Unpooled.wrappedBuffer(header).getUnsignedInt(FrameHeader.PAYLOAD_LENGTH_OFFSET);
        if (len > 1 << 20) {
            throw new IOException("frame of " + len + " bytes from the receiver");
        }
        byte[] frame = new byte[FrameHeader.HEADER_LENGTH + (int) len];
        System.arraycopy(header, 0, frame, 0, header.length);
        in.readFully(frame, header.length, (int) len);
        return frame;
    }
}
