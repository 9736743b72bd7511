package io.dwcp.compression;

import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.spi.StateCodecProvider;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Provider of HDE, the page-level delta + zstd state codec, registered for {@link java.util.ServiceLoader}
 * under the name {@code hde}. Settings come from {@code dwcp.compression.*} of the context's configuration.
 *
 * <pre>{@code
 * StateCodec hde = new HdeCodecProvider().create(context);
 * hde.start();
 * EncodeResult r = hde.encode(state, EncodeOptions.keyframe(), f -> frames.add(copyOf(f))).join();   // borrowed frames
 * // receiver: try (StateDecoder d = hde2.newDecoder(replica)) { frames.forEach(d::accept); d.finish(); }
 * hde.acknowledge(r.produced());
 * }</pre>
 *
 * <p>Thread-safe; every call creates an independent codec.
 */
public final class HdeCodecProvider implements StateCodecProvider {
    /** The provider name, {@code hde}. */
    public static final String NAME = "hde";

    /** Creates the provider (ServiceLoader needs a public no-argument constructor). */
    public HdeCodecProvider() {
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * A new, not yet started codec. It starts no thread before {@code start()}.
     *
     * @throws io.dwcp.core.DwcpException {@code INVALID_CONFIG} never: the configuration was validated when built
     */
    @Override
    public StateCodec create(ComponentContext context) {
        return new HdeCodec(context, () -> ThreadLocalRandom.current().nextLong());
    }
}
