package io.dwcp.core.migration;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Seed images of another size than the state they seed, such as a guest's disk image seeding its RAM (the guest's page
 * cache holds many of the image's blocks). Such an image seeds a state of {@code stateBytes} bytes as the image cut,
 * or extended with zeros, to that size: page i of the seed is the image's page i, or zeros past the image's end. Pages
 * at the same index rarely match, so what such a seed gives is mostly copies of pages found by content anywhere in
 * it (seed messages version 5 on); the image is only read, so copies need no preserving ({@link
 * SeedWire#FLAG_UNWRITTEN_SEED}). Pages past the state's size are not used. The description is cached beside the
 * replicas like that of any image, recorded with the state's size.
 */
final class SeedImages {
    private static final Logger LOG = LoggerFactory.getLogger(SeedImages.class);

    private SeedImages() {
    }

    /** The seed of a {@code stateBytes}-byte state in {@code image}, of another size; its description cached in {@code sidecar}. */
    static FileReplicas.Seed describeSized(Path image, Path sidecar, int pageSize, long stateBytes) throws IOException {
        SeedDescription d = SeedDescription.load(sidecar, image, pageSize, stateBytes);
        if (d != null) {
            return new FileReplicas.Seed(image, d, false, false);
        }
        long t0 = System.nanoTime();
        d = SeedDescription.compute(image, sidecar, pageSize, stateBytes, new AtomicBoolean());
        LOG.info("described {} ({} bytes) as the seed of a state of {} bytes in {} ms", image, d.stamp.size(), stateBytes,
                (System.nanoTime() - t0) / 1_000_000);
        return new FileReplicas.Seed(image, d, false, true);
    }
}
