// Command freeport prints free TCP ports on 127.0.0.1, one a line, for
// scripts that start servers beside others (scripts/load.sh). With
// --pair-offset K every port printed also has port+K free, for a server
// that opens a second port at a fixed offset (the Temporal dev server's
// Web UI at its frontend's port + 1000).
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
)

func main() {
	n := flag.Int("n", 1, "how many ports")
	offset := flag.Int("pair-offset", 0, "also require port+offset to be free (0: no pair)")
	flag.Parse()
	var held []net.Listener // held until the end, so the same port is not printed twice
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	for found := 0; found < *n; {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, "freeport:", err)
			os.Exit(1)
		}
		held = append(held, l)
		port := l.Addr().(*net.TCPAddr).Port
		if *offset != 0 {
			if port+*offset > 65535 {
				continue
			}
			pair, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+*offset))
			if err != nil {
				continue
			}
			held = append(held, pair)
		}
		fmt.Println(port)
		found++
	}
}
