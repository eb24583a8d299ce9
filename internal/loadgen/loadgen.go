package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Target is what to load: an address and the raw requests to send, used in
// turn across all connections (one request, or a pool such as one per
// pre-minted token: each is sent once before any is sent again).
type Target struct {
	Addr       string   // host:port
	Requests   [][]byte // complete HTTP/1.1 requests, keep-alive
	WantStatus int      // responses with another status count as errors; 0: 2xx
}

// Request builds raw request bytes for method, host and path (with query)
// and extra header lines ("Name: value").
func Request(method, host, target string, headers ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, host)
	for _, h := range headers {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// Result summarises one run.
type Result struct {
	Requests int64
	Errors   int64
	Elapsed  time.Duration
	P50, P99 time.Duration
}

// RPS is requests per second.
func (r Result) RPS() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// Run loads t with conns connections for d and returns the totals.
func Run(ctx context.Context, t Target, conns int, d time.Duration) (Result, error) {
	if len(t.Requests) == 0 || conns < 1 {
		return Result{}, errors.New("loadgen: need requests and at least one connection")
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		wg       sync.WaitGroup
		requests atomic.Int64
		errs     atomic.Int64
		mu       sync.Mutex
		all      []time.Duration
		firstErr error
		next     atomic.Int64 // the next request of the pool to send
	)
	start := time.Now()
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1<<16)
			n, e, err := worker(ctx, t, &next, &lat)
			requests.Add(n)
			errs.Add(e)
			mu.Lock()
			all = append(all, lat...)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	r := Result{Requests: requests.Load(), Errors: errs.Load(), Elapsed: time.Since(start)}
	if len(all) > 0 {
		slices.Sort(all)
		r.P50 = all[len(all)/2]
		r.P99 = all[len(all)*99/100]
	}
	if r.Requests == 0 && firstErr != nil {
		return r, firstErr
	}
	return r, nil
}

func worker(ctx context.Context, t Target, next *atomic.Int64, lat *[]time.Duration) (n, nerr int64, lastErr error) {
	var (
		conn net.Conn
		br   *bufio.Reader
	)
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	// Closing the connection when the run ends unblocks a pending read.
	stop := context.AfterFunc(ctx, func() {
		if c := conn; c != nil {
			c.SetDeadline(time.Now())
		}
	})
	defer stop()
	for ctx.Err() == nil {
		if conn == nil {
			c, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", t.Addr)
			if err != nil {
				if ctx.Err() == nil {
					nerr++
					lastErr = err
					time.Sleep(10 * time.Millisecond)
				}
				continue
			}
			conn, br = c, bufio.NewReaderSize(c, 32<<10)
		}
		req := t.Requests[(next.Add(1)-1)%int64(len(t.Requests))]
		begin := time.Now()
		status, keepAlive, err := roundTrip(conn, br, req)
		if ctx.Err() != nil {
			break // a response cut by the end of the run is not an error
		}
		if err != nil {
			nerr++
			lastErr = err
			conn.Close()
			conn = nil
			continue
		}
		*lat = append(*lat, time.Since(begin))
		n++
		if (t.WantStatus == 0 && (status < 200 || status > 299)) || (t.WantStatus != 0 && status != t.WantStatus) {
			nerr++
			lastErr = fmt.Errorf("status %d", status)
		}
		if !keepAlive {
			conn.Close()
			conn = nil
		}
	}
	return n, nerr, lastErr
}

var errMalformed = errors.New("loadgen: malformed response")

// roundTrip writes req and reads one response, discarding its body.
func roundTrip(conn net.Conn, br *bufio.Reader, req []byte) (status int, keepAlive bool, err error) {
	if _, err := conn.Write(req); err != nil {
		return 0, false, err
	}
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, errMalformed
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, errMalformed
	}
	keepAlive = true
	length, chunked := int64(-1), false
	for {
		h, err := br.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return 0, false, errMalformed
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil {
				return 0, false, errMalformed
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			keepAlive = !bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case chunked:
		err = discardChunked(br)
	case length >= 0:
		_, err = br.Discard(int(length))
	default:
		_, err = io.Copy(io.Discard, br) // body until close
		keepAlive = false
	}
	return status, keepAlive, err
}

func discardChunked(br *bufio.Reader) error {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		sz, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		n, err := strconv.ParseInt(string(sz), 16, 64)
		if err != nil {
			return errMalformed
		}
		if n == 0 {
			for { // trailers until the empty line
				l, err := br.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(bytes.TrimRight(l, "\r\n")) == 0 {
					return nil
				}
			}
		}
		if _, err := br.Discard(int(n) + 2); err != nil {
			return err
		}
	}
}
