package io.dwcp.core.migration;

import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.StateRegions;
import io.dwcp.core.state.VmState;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A {@link Migration.Source} over a file that a running guest writes while it is read: guest RAM kept in a shared file
 * (QEMU's {@code memory-backend-file,share=on} on {@code /dev/shm}), mapped read-only here. Every round reads the
 * memory as it is at that moment; a page the guest writes while the round reads it may be read half old, half new (a
 * torn page). That is harmless: the codec hashes and sends the copy it read, the receiver verifies that copy, and the
 * next round compares the memory again with what was sent, so the page is sent again once it differs. Only the final
 * round, read after {@link #pause()}, must be exact, and is, because nothing writes the memory any more.
 *
 * <p>The mapping is not {@linkplain StateRegion#immutable() immutable}, so the codec copies what it sends and keeps its
 * own baseline instead of views of the file. The file's size must not change while the source is open.
 *
 * <p>Closing releases the file; it does not resume or otherwise touch the guest.
 */
public final class LiveFileSource implements Migration.Source, AutoCloseable {
    /** Pauses the guest: after it returns, nothing may write the file. */
    @FunctionalInterface
    public interface Pause {
        /**
         * Pauses the guest.
         *
         * @throws Exception when the guest could not be paused
         */
        void pause() throws Exception;
    }

    private final String key;
    private final StateRegion region;
    private final Pause pause;
    private volatile boolean paused;

    private LiveFileSource(String key, StateRegion region, Pause pause) {
        this.key = key;
        this.region = region;
        this.pause = pause;
    }

    /**
     * Opens {@code file} (mapped read-only) as the live state {@code key}, one region named after the file.
     *
     * @param key the state key
     * @param file the file the guest writes (its RAM)
     * @param pause how to pause the guest for the final round
     * @return the source; close it after the migration
     * @throws IOException when the file cannot be opened or mapped
     */
    public static LiveFileSource open(String key, Path file, Pause pause) throws IOException {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(pause, "pause");
        return new LiveFileSource(key, StateRegions.mapped(file), pause);
    }

    @Override
    public VmState<? extends StateRegion> state() {
        return VmState.<StateRegion>builder(key).region(region).lastPagePartial(true).build();
    }

    @Override
    public void pause() throws Exception {
        pause.pause();
        paused = true;
    }

    /**
     * Whether {@link #pause()} returned: then the caller must resume the guest itself if the migration fails.
     *
     * @return whether the guest was paused by this source
     */
    public boolean paused() {
        return paused;
    }

    /** {@return the size of the memory in bytes} */
    public long sizeBytes() {
        return region.sizeBytes();
    }

    /** Releases the mapping's file. Idempotent. */
    @Override
    public void close() throws IOException {
        region.close();
    }
}
