package io.dwcp.core.state;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A VM state: a key (e.g. the VM id) plus ordered regions of fixed-size pages. The state does not hold the
 * bytes; its regions read them on demand from a file, a buffer or a mapping.
 *
 * <p>Immutable and thread-safe (as thread-safe as its regions, which read positionally).
 *
 * @param <R> region type: {@link StateRegion} for a source, {@link WritableRegion} for a replica
 */
public final class VmState<R extends StateRegion> implements java.io.Closeable {
    /** The default page size: 4 KiB. */
    public static final int DEFAULT_PAGE_SIZE_BYTES = 4096;

    private final String key;
    private final int pageSizeBytes;
    private final List<R> regions;
    private final boolean lastPagePartial;

    private VmState(String key, int pageSizeBytes, List<R> regions, boolean lastPagePartial) {
        this.key = key;
        this.pageSizeBytes = pageSizeBytes;
        this.regions = List.copyOf(regions);
        this.lastPagePartial = lastPagePartial;
    }

    /**
     * A source state of the given regions with 4 KiB pages.
     *
     * @param key the state key
     * @param regions the regions, in order
     * @return the state
     */
    public static VmState<StateRegion> of(String key, StateRegion... regions) {
        VmState.Builder<StateRegion> b = builder(key);
        for (StateRegion r : regions) {
            b.region(r);
        }
        return b.build();
    }

    /**
     * A builder of a state.
     *
     * @param key the state key; baselines and replicas are kept per key
     * @param <R> the type of the regions
     * @return the builder
     */
    public static <R extends StateRegion> Builder<R> builder(String key) {
        return new Builder<>(key);
    }

    /** {@return the state key; baselines and replicas are kept per key} */
    public String key() {
        return key;
    }

    /** @return the page size of every region, in bytes */
    public int pageSizeBytes() {
        return pageSizeBytes;
    }

    /** @return the regions in order, unmodifiable */
    public List<R> regions() {
        return regions;
    }

    /**
     * One region.
     *
     * @param index the region's position, from 0
     * @return the region
     * @throws IndexOutOfBoundsException when there is no such region
     */
    public R region(int index) {
        return regions.get(index);
    }

    /** {@return whether regions may end in a partial page (disk images whose size is not a page multiple)} */
    public boolean lastPagePartial() {
        return lastPagePartial;
    }

    /** {@return sum of the region sizes in bytes} */
    public long totalBytes() {
        long total = 0;
        for (R r : regions) {
            total += r.sizeBytes();
        }
        return total;
    }

    /**
     * Number of pages of region {@code index}, counting a partial last page.
     *
     * @param index the region's index
     * @return the number of pages
     */
    public long pageCount(int index) {
        return (regions.get(index).sizeBytes() + pageSizeBytes - 1) / pageSizeBytes;
    }

    /** {@return total number of pages over all regions} */
    public long totalPages() {
        long n = 0;
        for (int i = 0; i < regions.size(); i++) {
            n += pageCount(i);
        }
        return n;
    }

    /** Closes every region, in reverse order; the first failure is thrown with the others suppressed. */
    @Override
    public void close() throws java.io.IOException {
        java.io.IOException first = null;
        for (int i = regions.size() - 1; i >= 0; i--) {
            try {
                regions.get(i).close();
            } catch (java.io.IOException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return "VmState{key=" + key + ", pageSize=" + pageSizeBytes + ", regions=" + regions.size() + ", bytes=" + totalBytes() + "}";
    }

    /** Builder of a {@link VmState}. Not thread-safe. */
    public static final class Builder<R extends StateRegion> {
        private final String key;
        private int pageSizeBytes = DEFAULT_PAGE_SIZE_BYTES;
        private final List<R> regions = new ArrayList<>();
        private boolean lastPagePartial;

        private Builder(String key) {
            if (key == null || key.isEmpty()) {
                throw new IllegalArgumentException("key must be a non-empty string, got " + (key == null ? "null" : "''"));
            }
            this.key = key;
        }

        /**
         * Page size in bytes: a power of two from 512 B to 2 MiB.
         *
         * @param pageSizeBytes the page size
         * @return this builder
         */
        public Builder<R> pageSizeBytes(int pageSizeBytes) {
            if (pageSizeBytes < 512 || pageSizeBytes > 2 * 1024 * 1024 || Integer.bitCount(pageSizeBytes) != 1) {
                throw new IllegalArgumentException("pageSizeBytes = " + pageSizeBytes + ": expected a power of 2 from 512 to 2097152");
            }
            this.pageSizeBytes = pageSizeBytes;
            return this;
        }

        /**
         * Appends a region.
         *
         * @param region the region, not {@code null}
         * @return this builder
         */
        public Builder<R> region(R region) {
            regions.add(Objects.requireNonNull(region, "region"));
            return this;
        }

        /**
         * Allows regions whose size is not a whole number of pages (their last page is partial).
         *
         * @param allowed whether they are allowed
         * @return this builder
         */
        public Builder<R> lastPagePartial(boolean allowed) {
            this.lastPagePartial = allowed;
            return this;
        }

        /**
         * Builds the state.
         *
         * @return the state
         * @throws IllegalArgumentException for duplicate region names or a region that is not whole pages
         */
        public VmState<R> build() {
            Set<String> names = new HashSet<>();
            for (R r : regions) {
                if (!names.add(r.name())) {
                    throw new IllegalArgumentException("duplicate region name '" + r.name() + "' in state " + key);
                }
                if (!lastPagePartial && r.sizeBytes() % pageSizeBytes != 0) {
                    throw new IllegalArgumentException("region '" + r.name() + "' of state " + key + " is " + r.sizeBytes()
                            + " bytes, not a whole number of " + pageSizeBytes + "-byte pages: pad it or call lastPagePartial(true)");
                }
            }
            return new VmState<>(key, pageSizeBytes, regions, lastPagePartial);
        }
    }
}
