//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/cordon-sandbox/cordon/internal/testutil/wsframe"
)

// websocket opens a WebSocket to target (https://...) through the proxy in
// $HTTPS_PROXY, trusting $SSL_CERT_FILE, with Authorization: Bearer
// $GITHUB_TOKEN on the upgrade. It sends one text frame naming the token it
// holds, sends back the reply it gets, and closes with a close frame. It
// prints the status and the reply.
func websocket(target string) error {
	p, err := url.Parse(os.Getenv("HTTPS_PROXY"))
	if err != nil || p.Host == "" {
		return fmt.Errorf("no usable HTTPS_PROXY: %q", os.Getenv("HTTPS_PROXY"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	key := wsframe.NewKey()
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Key", key)
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Authorization", "Bearer "+os.Getenv("GITHUB_TOKEN"))
	resp, err := (&http.Transport{Proxy: http.ProxyURL(p)}).RoundTrip(req)
	if err != nil {
		return err
	}
	fmt.Printf("status %d\n", resp.StatusCode)
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("no upgrade: %s", body)
	}
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != wsframe.Accept(key) {
		return fmt.Errorf("Sec-WebSocket-Accept %q, want %q", got, wsframe.Accept(key))
	}
	conn := resp.Body.(io.ReadWriteCloser)
	defer conn.Close()
	br := bufio.NewReader(conn)
	if err := wsframe.Write(conn, wsframe.Text, []byte("probe holds "+os.Getenv("GITHUB_TOKEN")), true); err != nil {
		return err
	}
	op, reply, _, err := wsframe.Read(br)
	if err != nil || op != wsframe.Text {
		return fmt.Errorf("reading the reply: opcode %d, %v", op, err)
	}
	fmt.Printf("reply: %s\n", reply)
	if err := wsframe.Write(conn, wsframe.Text, reply, true); err != nil {
		return err
	}
	if _, _, _, err := wsframe.Read(br); err != nil {
		return fmt.Errorf("reading the second reply: %v", err)
	}
	if err := wsframe.Write(conn, wsframe.Close, []byte{0x03, 0xe8}, true); err != nil {
		return err
	}
	if op, _, _, err := wsframe.Read(br); err != nil || op != wsframe.Close {
		return fmt.Errorf("no close frame in answer: opcode %d, %v", op, err)
	}
	fmt.Println("closed")
	return nil
}
