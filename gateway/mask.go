package gateway

// maskPhone keeps what support staff need to tell numbers apart (country
// prefix and last three digits) and hides the rest: "+255712345678" →
// "+2557******678". Logs never carry a full phone number.
func maskPhone(phone string) string {
	const keepHead, keepTail = 5, 3
	if len(phone) <= keepHead+keepTail {
		return "***"
	}
	b := []byte(phone)
	for i := keepHead; i < len(b)-keepTail; i++ {
		b[i] = '*'
	}
	return string(b)
}
