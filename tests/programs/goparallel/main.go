// goparallel: a Go program for the rumprun system tests (Debian's Go, static, no
// cgo): runtime.NumCPU and GOMAXPROCS from the kernel's CPU count, goroutines summing
// in parallel with a WaitGroup, a mutex-guarded counter, channels between goroutines,
// and a timer; prints "ok: ..." per check and "ALL OK", or "FAIL ..." and exits 1.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

func fail(f string, a ...interface{}) {
	fmt.Printf("FAIL "+f+"\n", a...)
	os.Exit(1)
}

func main() {
	fmt.Printf("cpus: NumCPU %d, GOMAXPROCS %d\n", runtime.NumCPU(), runtime.GOMAXPROCS(0))
	if len(os.Args) > 1 && fmt.Sprint(runtime.NumCPU()) != os.Args[1] {
		fail("NumCPU %d, want %s", runtime.NumCPU(), os.Args[1])
	}
	const parts, per = 8, 5000000
	sums := make([]uint64, parts)
	var wg sync.WaitGroup
	for p := 0; p < parts; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			var s uint64
			for i := uint64(p * per); i < uint64((p+1)*per); i++ {
				s += i % 13
			}
			sums[p] = s
		}(p)
	}
	wg.Wait()
	var total, want uint64
	for _, s := range sums {
		total += s
	}
	for i := uint64(0); i < parts*per; i++ {
		want += i % 13
	}
	if total != want {
		fail("parallel sum %d, want %d", total, want)
	}
	fmt.Println("ok: 8 goroutines summed in parallel")

	var mu sync.Mutex
	count := 0
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100000; i++ {
				mu.Lock()
				count++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if count != 400000 {
		fail("mutex counter %d, want 400000", count)
	}
	fmt.Println("ok: mutex counter 4 x 100000")

	ch := make(chan int)
	done := make(chan int)
	go func() {
		s := 0
		for v := range ch {
			s += v
		}
		done <- s
	}()
	for i := 1; i <= 10000; i++ {
		ch <- i
	}
	close(ch)
	if s := <-done; s != 50005000 {
		fail("channel sum %d", s)
	}
	fmt.Println("ok: 10000 values through an unbuffered channel")

	t0 := time.Now()
	<-time.After(50 * time.Millisecond)
	if d := time.Since(t0); d < 50*time.Millisecond {
		fail("timer fired after %v", d)
	}
	fmt.Println("ok: timer")
	fmt.Println("ALL OK")
}
