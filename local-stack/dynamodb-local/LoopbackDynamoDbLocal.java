import java.lang.reflect.Field;
import java.util.List;
import java.util.Locale;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Amazon's DynamoDB Local for the local stack. Its stock launcher binds every interface and has no option
 * for the address, so this one builds the server with DynamoDB Local's own code and the same arguments,
 * then, before starting it:
 * - sets the host of its connectors to 127.0.0.1, so the network cannot reach it;
 * - answers only requests whose Host header is a loopback name with its port (127.0.0.1:PORT,
 *   localhost:PORT, [::1]:PORT: the rule of local-stack/loopback.ts), so a web page that points its own
 *   domain at 127.0.0.1 (DNS rebinding) cannot either;
 * - sends no telemetry (the stock launcher is where telemetry is switched on);
 * - exits when the process that started it is gone, however that ended, so it never outlives the stack.
 * Run by local-stack/processes.ts with Java's single-file source launcher:
 * `java -cp <DynamoDBLocal.jar and its libs> LoopbackDynamoDbLocal.java -port N ...`.
 */
public final class LoopbackDynamoDbLocal {
  public static void main(String[] args) throws Exception {
    ProcessHandle.current().parent().ifPresent((parent) -> parent.onExit().thenRun(() -> System.exit(0)));
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    int port = -1;
    for (Connector connector : server.getConnectors()) {
      if (!(connector instanceof ServerConnector network)) {
        throw new IllegalStateException("unexpected connector " + connector);
      }
      network.setHost("127.0.0.1");
      port = network.getPort();
    }
    List<String> hosts = List.of("127.0.0.1:" + port, "localhost:" + port, "[::1]:" + port);
    server.setHandler(new LoopbackHostsOnly(server.getHandler(), hosts));
    proxy.start();
    System.out.println("DynamoDB Local listening on 127.0.0.1:" + port);
    proxy.join();
  }

  /** Refuses (403) a request for any other Host before DynamoDB Local sees it. */
  static final class LoopbackHostsOnly extends Handler.Wrapper {
    private final List<String> hosts;

    LoopbackHostsOnly(Handler handler, List<String> hosts) {
      super(handler);
      this.hosts = hosts;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
      String host = request.getHeaders().get(HttpHeader.HOST);
      if (host != null && hosts.contains(host.trim().toLowerCase(Locale.ROOT))) {
        return super.handle(request, response, callback);
      }
      Response.writeError(request, response, callback, 403, "Host " + host + " is not served here: the local stack answers only " + String.join(", ", hosts));
      return true;
    }
  }
}
