// Command handler is minimal_baseline on Azure Functions: a Go custom
// handler with one HTTP-triggered function, hello, that answers at once.
// The Functions host forwards the request as it came
// (enableForwardingHttpRequest in ../app/host.json), so this is a plain HTTP
// server on the port the host chooses.
package main

import (
	"log"
	"net/http"
	"os"
)

func main() {
	port := os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT")
	if port == "" {
		port = "8080"
	}
	log.Printf("minimal_baseline handler listening on 127.0.0.1:%s", port)
	log.Fatal(http.ListenAndServe("127.0.0.1:"+port, routes()))
}
