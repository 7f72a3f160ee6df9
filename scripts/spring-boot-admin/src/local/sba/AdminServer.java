package local.sba;

import de.codecentric.boot.admin.server.config.EnableAdminServer;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/** The smallest Spring Boot Admin server: its REST API (/instances) and UI, with Spring Boot's defaults. */
@EnableAdminServer
@SpringBootApplication
public class AdminServer {

  public static void main(String[] args) {
    SpringApplication.run(AdminServer.class, args);
  }
}
