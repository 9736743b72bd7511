package io.dwcp.compression;

import io.dwcp.core.state.StateRegion;
import io.dwcp.core.state.VmState;

import java.util.Arrays;

/**
 * The shape of a state: page size and region sizes, and the global page numbering (pages of region 0, then of
 * region 1, …; a region's partial last page counts as a page, zero-padded). Immutable.
 */
final class Layout {
    final int pageSizeBytes;
    final long[] regionBytes;
    /** First global page of each region, plus the total page count at the end. */
    final long[] firstPage;
    final long totalBytes;

    Layout(int pageSizeBytes, long[] regionBytes) {
        this.pageSizeBytes = pageSizeBytes;
        this.regionBytes = regionBytes.clone();
        this.firstPage = new long[regionBytes.length + 1];
        long total = 0;
        for (int i = 0; i < regionBytes.length; i++) {
            firstPage[i + 1] = firstPage[i] + (regionBytes[i] + pageSizeBytes - 1) / pageSizeBytes;
            total += regionBytes[i];
        }
        this.totalBytes = total;
    }

    static Layout of(VmState<? extends StateRegion> state) {
        long[] sizes = new long[state.regions().size()];
        for (int i = 0; i < sizes.length; i++) {
            sizes[i] = state.region(i).sizeBytes();
        }
        return new Layout(state.pageSizeBytes(), sizes);
    }

    long totalPages() {
        return firstPage[firstPage.length - 1];
    }

    int regionCount() {
        return regionBytes.length;
    }

    /** The region of global page {@code page} (binary search). */
    int regionOf(long page) {
        int i = Arrays.binarySearch(firstPage, page);
        if (i >= 0) {
            // Skip empty regions that start at the same page.
            while (i + 1 < firstPage.length && firstPage[i + 1] == page) {
                i++;
            }
            return i;
        }
        return -i - 2;
    }

    /** Valid bytes of global page {@code page} in region {@code region} (less than a page only for a partial last page). */
    int validBytes(int region, long page) {
        long offset = (page - firstPage[region]) * pageSizeBytes;
        return (int) Math.min(pageSizeBytes, regionBytes[region] - offset);
    }

    boolean sameAs(Layout o) {
        return o != null && pageSizeBytes == o.pageSizeBytes && Arrays.equals(regionBytes, o.regionBytes);
    }

    @Override
    public String toString() {
        return "Layout{page=" + pageSizeBytes + ", regions=" + Arrays.toString(regionBytes) + "}";
    }
}
