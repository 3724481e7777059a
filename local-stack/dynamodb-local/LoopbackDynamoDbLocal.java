import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Amazon's DynamoDB Local, listening on the loopback address only. Its own launcher binds every interface
 * and has no option for the address, so this one builds the server with DynamoDB Local's own code and the
 * same arguments, sets the host of its connectors to 127.0.0.1, and starts it. It sends no telemetry (the
 * stock launcher is where telemetry is switched on). Run by local-stack/processes.ts with Java's
 * single-file source launcher: `java -cp <DynamoDBLocal.jar and its libs> LoopbackDynamoDbLocal.java -port N ...`.
 */
public final class LoopbackDynamoDbLocal {
  public static void main(String[] args) throws Exception {
    ProcessHandle.current().parent().ifPresent((parent) -> parent.onExit().thenRun(() -> System.exit(0)));
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    for (Connector connector : server.getConnectors()) {
      if (connector instanceof ServerConnector network) network.setHost("127.0.0.1");
      else throw new IllegalStateException("unexpected connector " + connector);
    }
    proxy.start();
    System.out.println("DynamoDB Local listening on 127.0.0.1");
    proxy.join();
  }
}
