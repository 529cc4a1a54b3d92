package gateway

import "github.com/openimis/imis-gateway/providers"

// maskPhone is how the gateway's logs name a caller, sender or recipient:
// providers.MaskPhone, at most the last three characters ("+*********678").
// Logs never carry a whole phone number.
func maskPhone(phone string) string { return providers.MaskPhone(phone) }
