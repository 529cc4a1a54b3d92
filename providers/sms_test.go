package providers

import (
	"errors"
	"fmt"
)

func ExampleSendError() {
	err := fmt.Errorf("outbox: %w", &SendError{Provider: "africastalking", Retryable: true, Throttled: true,
		Status: "HTTP 429", Reason: "too many requests"})
	var e *SendError
	fmt.Println(errors.As(err, &e), e.Throttled)
	fmt.Println(err)
	// Output:
	// true true
	// outbox: africastalking send (retryable): HTTP 429: too many requests
}
