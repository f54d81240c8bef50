// Command handler is thumbnail_generator on Azure Functions, a Go custom
// handler serving both functions of the app (see ../app):
//
//   - upload, HTTP-triggered: the Functions host forwards the POSTed image
//     (enableForwardingHttpRequest), and the handler stores it in the
//     "uploads" blob container;
//   - thumbnail, blob-triggered on uploads/{name}: the host POSTs an
//     invocation to /thumbnail, and the handler writes a PNG thumbnail into
//     the "thumbnails" container.
//
// The handler reads and writes blobs with the Azure SDK instead of output
// bindings, because a custom handler exchanges binding data as JSON text,
// which does not carry binary images faithfully.
//
// Environment: FUNCTIONS_CUSTOMHANDLER_PORT (set by the host),
// AzureWebJobsStorage (the storage account's connection string, set by
// `az functionapp create`), THUMBNAIL_WIDTH (pixels, default 128).
package main

import (
	"log"
	"net/http"
	"os"
	"strconv"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"thumbnailgenerator/shared/thumbnail"
)

func main() {
	port := os.Getenv("FUNCTIONS_CUSTOMHANDLER_PORT")
	if port == "" {
		port = "8080"
	}
	conn := os.Getenv("AzureWebJobsStorage")
	if conn == "" {
		log.Fatal("AzureWebJobsStorage is not set: run the handler inside a function app, or set it to a storage connection string")
	}
	width := thumbnail.DefaultWidth
	if v := os.Getenv("THUMBNAIL_WIDTH"); v != "" {
		w, err := strconv.Atoi(v)
		if err != nil || w <= 0 {
			log.Fatalf("THUMBNAIL_WIDTH=%q is not a positive number of pixels", v)
		}
		width = w
	}
	client, err := azblob.NewClientFromConnectionString(conn, nil)
	if err != nil {
		log.Fatalf("AzureWebJobsStorage is not a usable connection string: %v", err)
	}
	app := &app{blobs: client, width: width}
	log.Printf("thumbnail_generator handler listening on 127.0.0.1:%s", port)
	log.Fatal(http.ListenAndServe("127.0.0.1:"+port, app.routes()))
}
