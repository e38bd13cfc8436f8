package logread

import "github.com/supersede/supersede/internal/status"

// ReadBytes is Read on output kept in memory rather than in a file (a
// process's output read from the journal): the same arguments, the same
// answers as for a regular file holding data.
func ReadBytes(data []byte, offset, length int64) ([]byte, error) {
	sz := int64(len(data))
	if offset < 0 {
		if length != 0 {
			return nil, status.ErrBadArguments
		}
		return data[max(sz+offset, 0):], nil
	}
	if length < 0 {
		return nil, status.ErrBadArguments
	}
	if offset >= sz {
		return nil, nil
	}
	end := sz
	if length > 0 && offset+length < sz {
		end = offset + length
	}
	return data[offset:end], nil
}

// TailBytes is Tail on output kept in memory, as ReadBytes is Read.
func TailBytes(data []byte, offset, length int64) (out []byte, next int64, overflow bool) {
	sz := int64(len(data))
	if sz > offset+length {
		overflow = true
		offset = sz - 1
	}
	if offset+length > sz {
		if offset > sz-1 {
			length = 0
		}
		offset = sz - length
	}
	offset = max(offset, 0)
	length = max(length, 0)
	if length > 0 {
		out = data[offset:min(offset+length, sz)]
	}
	return out, sz, overflow
}
