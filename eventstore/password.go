package eventstore

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Bounds of a merchant user's password, in bytes. The upper bound keeps
// hashing cost independent of what a client sends.
const (
	MinPasswordBytes = 8
	MaxPasswordBytes = 256
)

// Argon2id parameters of new password hashes: OWASP's Password Storage
// Cheat Sheet's first argon2id configuration (19 MiB of memory, 2 passes,
// 1 lane), 16 bytes of salt from crypto/rand, a 32-byte key. A hash records
// its own parameters (PHC string format), so raising them later leaves old
// hashes verifiable.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonSaltLen   = 16
	argonKeyLen    = 32
)

// hashSlots bounds the argon2id computations running at once in a
// process: each holds argonMemoryKiB of memory (or what an old hash
// records), so a flood of sign-ins costs at most cap(hashSlots) times that,
// and waits its turn rather than exhausting memory.
var hashSlots = make(chan struct{}, 4)

// argonKey is argon2.IDKey run in one of hashSlots; it gives up when ctx
// ends before a slot is free.
func argonKey(ctx context.Context, pw string, salt []byte, passes, memKiB uint32, threads uint8, keyLen uint32) ([]byte, error) {
	select {
	case hashSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-hashSlots }()
	return argon2.IDKey([]byte(pw), salt, passes, memKiB, threads, keyLen), nil
}

// errBadHash: a stored hash is not an argon2id PHC string this code reads.
var errBadHash = errors.New("password hash is not a readable argon2id hash")

// checkPassword is the problem with a new password, or "".
func checkPassword(pw string) string {
	switch {
	case len(pw) < MinPasswordBytes:
		return fmt.Sprintf("The password must be at least %d characters long.", MinPasswordBytes)
	case len(pw) > MaxPasswordBytes:
		return fmt.Sprintf("The password may not be longer than %d bytes.", MaxPasswordBytes)
	}
	return ""
}

// hashPassword returns the argon2id PHC string of pw with a fresh salt:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>, both base64 without padding.
func hashPassword(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key, err := argonKey(ctx, pw, salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// passwordMatches reports whether pw hashes to encoded (an argon2id PHC
// string), comparing the keys in constant time. A password over
// MaxPasswordBytes never matches and is not hashed.
func passwordMatches(ctx context.Context, encoded, pw string) (bool, error) {
	var (
		version, mem, passes int
		threads              uint8
	)
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &passes, &threads); err != nil ||
		mem <= 0 || mem > 1<<22 || passes <= 0 || passes > 16 || threads == 0 {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) == 0 || len(want) == 0 || len(want) > 64 {
		return false, errBadHash
	}
	if len(pw) > MaxPasswordBytes {
		return false, nil
	}
	got, err := argonKey(ctx, pw, salt, uint32(passes), uint32(mem), threads, uint32(len(want)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is a hash of a random password, verified against when a login
// names no user, so that an unknown email costs the same time as a wrong
// password.
var dummyHash = sync.OnceValue(func() string {
	var pw [16]byte
	_, _ = rand.Read(pw[:]) // never fails (crypto/rand)
	h, err := hashPassword(context.Background(), base64.RawURLEncoding.EncodeToString(pw[:]))
	if err != nil {
		panic(err) // only a failing crypto/rand gets here
	}
	return h
})
