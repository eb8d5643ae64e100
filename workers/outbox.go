package workers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// outboxSender writes each message to a directory instead of sending it:
// the development default when SMTP_URL is empty.
type outboxSender struct {
	dir string
	log *slog.Logger
}

func newOutboxSender(dir string, log *slog.Logger) (*outboxSender, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create outbox: %w", err)
	}
	return &outboxSender{dir: dir, log: log}, nil
}

// outboxName is the file name for a message id: the id itself when it is
// made of safe characters, otherwise its safe characters and a hash of the
// id (so two ids never share a file).
func outboxName(bareID string) string {
	safe := []byte(bareID)
	changed := false
	for i, c := range safe {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._@+=-", c) >= 0) {
			safe[i], changed = '_', true
		}
	}
	name := string(safe)
	if changed || len(name) > 120 || strings.HasPrefix(name, ".") {
		sum := sha256.Sum256([]byte(bareID))
		name = strings.TrimLeft(name[:min(len(name), 100)], ".") + "-" + hex.EncodeToString(sum[:8])
	}
	return name + ".eml"
}

// Send writes e to dir/<message id>.eml through a temporary file and a
// rename, so a reader never sees half a message and sending the same
// message again replaces the file.
func (o *outboxSender) Send(ctx context.Context, e Email) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m, err := buildMessage(e)
	if err != nil {
		return err
	}
	id, _ := bareMessageID(e.MessageID) // checked by buildMessage
	path := filepath.Join(o.dir, outboxName(id))
	tmp, err := os.CreateTemp(o.dir, ".eml-*.tmp")
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := m.WriteTo(tmp); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("outbox: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("outbox: write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	o.log.Info("email written to outbox", "path", path) // not the address: logs name no customer
	return nil
}

// Close does nothing: the outbox holds no resources.
func (o *outboxSender) Close() error { return nil }
