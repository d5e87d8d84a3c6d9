// goexec: os/exec from Go: a program, a shell pipeline, an exit status, stdin piped
// through a child, and the program itself again through os.Executable.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		fmt.Println("child of", os.Getppid())
		return
	}
	out, err := exec.Command("/bin/echo", "hello", "from", "echo").Output()
	fmt.Printf("run: %q %v\n", strings.TrimSpace(string(out)), err)
	out, err = exec.Command("/bin/sh", "-c", "echo $((6 * 7)) | tr 4 x").Output()
	fmt.Printf("shell: %q %v\n", strings.TrimSpace(string(out)), err)
	err = exec.Command("/bin/sh", "-c", "exit 3").Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		fmt.Println("status:", ee.ExitCode())
	}
	cmd := exec.Command("/bin/wc", "-c")
	cmd.Stdin = strings.NewReader(strings.Repeat("x", 70000))
	out, err = cmd.Output()
	fmt.Printf("stdin: %q %v\n", strings.TrimSpace(string(out)), err)
	self, err := os.Executable()
	out, err2 := exec.Command(self, "child").Output()
	fmt.Printf("self: %v %q %v\n", err, strings.TrimSpace(string(out)), err2)
	fmt.Println("my pid", os.Getpid())
	_, err = exec.Command("/bin/does-not-exist").Output()
	fmt.Println("missing:", err)
}
