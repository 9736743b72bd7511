package io.dwcp.transport.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelConfig;
import io.netty.channel.MaxMessagesRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;

/**
 * Socket reads sized by Netty's {@link AdaptiveRecvByteBufAllocator} (4 KiB to 1 MiB: large reads mean fewer
 * syscalls and fewer cumulation components per chunk than Netty's 64 KiB default), into buffers from a
 * {@link BufferRecycler}. A read buffer lives until the chunks sliced from it are delivered, so reads are the
 * receive side's share of the allocation churn the recycler removes. Only the read path uses the recycler; every
 * other buffer of the channel (TLS output, control frames) comes from the channel's allocator.
 */
final class RecyclingReads implements MaxMessagesRecvByteBufAllocator {
    private final AdaptiveRecvByteBufAllocator sizes = new AdaptiveRecvByteBufAllocator(4096, 64 * 1024, 1 << 20);
    private final BufferRecycler recycler;

    RecyclingReads(BufferRecycler recycler) {
        this.recycler = recycler;
    }

    @Override
    public RecvByteBufAllocator.Handle newHandle() {
        return new Handle((RecvByteBufAllocator.ExtendedHandle) sizes.newHandle());
    }

    @Override
    public int maxMessagesPerRead() {
        return sizes.maxMessagesPerRead();
    }

    @Override
    public MaxMessagesRecvByteBufAllocator maxMessagesPerRead(int maxMessagesPerRead) {
        sizes.maxMessagesPerRead(maxMessagesPerRead);
        return this;
    }

    /** Netty's adaptive handle with its allocation redirected to the recycler. */
    private final class Handle implements RecvByteBufAllocator.ExtendedHandle {
        private final RecvByteBufAllocator.ExtendedHandle sizing;

        Handle(RecvByteBufAllocator.ExtendedHandle sizing) {
            this.sizing = sizing;
        }

        @Override
        public ByteBuf allocate(ByteBufAllocator alloc) {
            int size = sizing.guess();
            return size >= BufferRecycler.MIN_RECYCLED_BYTES ? recycler.directBuffer(size) : alloc.ioBuffer(size);
        }

        @Override
        public int guess() {
            return sizing.guess();
        }

        @Override
        public void reset(ChannelConfig config) {
            sizing.reset(config);
        }

        @Override
        public void incMessagesRead(int numMessages) {
            sizing.incMessagesRead(numMessages);
        }

        @Override
        public void lastBytesRead(int bytes) {
            sizing.lastBytesRead(bytes);
        }

        @Override
        public int lastBytesRead() {
            return sizing.lastBytesRead();
        }

        @Override
        public void attemptedBytesRead(int bytes) {
            sizing.attemptedBytesRead(bytes);
        }

        @Override
        public int attemptedBytesRead() {
            return sizing.attemptedBytesRead();
        }

        @Override
        public boolean continueReading() {
            return sizing.continueReading();
        }

        @Override
        public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
            return sizing.continueReading(maybeMoreDataSupplier);
        }

        @Override
        public void readComplete() {
            sizing.readComplete();
        }
    }
}
