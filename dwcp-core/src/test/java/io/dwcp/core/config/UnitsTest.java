package io.dwcp.core.config;

import io.dwcp.core.DataRate;
import io.dwcp.core.DataSize;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class UnitsTest {
    @ParameterizedTest
    @CsvSource({"512B,512", "256KiB,262144", "4MiB,4194304", "1GiB,1073741824", "1.5KiB,1536", "1 MiB,1048576", "10MB,10000000", "2g,2147483648"})
    void sizes(String text, long bytes) {
        assertEquals(bytes, DataSize.parse(text).bytes());
    }

    @ParameterizedTest
    @ValueSource(strings = {"100", "1.3B", "KiB", "-1KiB", "5 parsecs"})
    void badSizes(String text) {
        assertThrows(IllegalArgumentException.class, () -> DataSize.parse(text));
    }

    @Test
    void sizeFormatsInTheLargestExactUnit() {
        assertEquals("256KiB", DataSize.format(262144));
        assertEquals("1000B", DataSize.format(1000));
        assertEquals("3GiB", DataSize.ofGibibytes(3).toString());
    }

    @ParameterizedTest
    @CsvSource({"400Mbit/s,400000000", "1Gbit/s,1000000000", "50MB/s,400000000", "64MiB/s,536870912", "8bit/s,8", "1B/s,8", "1b/s,1"})
    void rates(String text, long bits) {
        assertEquals(bits, DataRate.parse(text).bitsPerSecond());
    }

    @ParameterizedTest
    @ValueSource(strings = {"400", "400Mbps", "0Mbit/s", "fast/s", "10 furlongs/s"})
    void badRates(String text) {
        assertThrows(IllegalArgumentException.class, () -> DataRate.parse(text));
    }

    @Test
    void rateKeepsBitsAndBytesApart() {
        DataRate r = DataRate.parse("50MB/s");
        assertEquals(50_000_000, r.bytesPerSecond());
        assertEquals("400Mbit/s", r.toString());
    }

    @ParameterizedTest
    @CsvSource({"250ms,250", "5s,5000", "10m,600000", "1h,3600000", "7d,604800000", "1.5s,1500", "PT2S,2000"})
    void durations(String text, long millis) {
        assertEquals(Duration.ofMillis(millis), ValueType.DURATION.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"30", "5 fortnights", "ms"})
    void badDurations(String text) {
        assertThrows(IllegalArgumentException.class, () -> ValueType.DURATION.parse(text));
    }
}
