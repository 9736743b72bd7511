package io.dwcp.sync;

import io.dwcp.core.DwcpManager;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.Health;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DwcpManager finds ASS through ServiceLoader, gives it the AMST transport and starts it after the transport. */
class ManagerWiringTest {
    @Test
    void managerDiscoversAndRunsTheSyncComponent() throws Exception {
        DwcpConfig config = Nodes.config("m1");
        try (DwcpManager m = DwcpManager.builder().config(config).build()) {
            assertInstanceOf(AssSync.class, m.sync());
            List<String> names = m.componentNames();
            assertTrue(names.indexOf("transport") < names.indexOf("sync"), names.toString());
            m.start();
            InetSocketAddress a = m.sync().listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).get(5, TimeUnit.SECONDS);
            assertTrue(a.getPort() > 0);
            m.sync().metadata().addToCounter("vms", 2);
            assertEquals(2, m.sync().metadata().counter("vms"));
            assertEquals(Health.Status.HEALTHY, m.componentHealth().get("sync").status());
            assertTrue(m.meterRegistry().find("dwcp.ass.keys").gauge().value() >= 1);
        }
    }
}
