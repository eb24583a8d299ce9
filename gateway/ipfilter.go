package gateway

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"

	"github.com/porticoapi/portico/clientip"
	"github.com/porticoapi/portico/portal"
)

// The answers of ip_filter (Contract section 5). Both refusals send the
// same body, as APIM's ip-filter does; the reason tells them apart.
const (
	msgForbidden = "Forbidden"
	// detailIPUnknown is APIM's wording for a caller whose address cannot
	// be established.
	detailIPUnknown = "Failed to establish IP address for the caller"
)

// policyDenial renders a denial of one route's policy, counted under
// reason in denials_total.
func (g *Gateway) policyDenial(status int, message, reason string) *denial {
	d := newDenial(status, message, reason, g.metrics.denials.WithLabelValues(reason))
	return &d
}

// ipFilterCheck compiles the API's ip_filter into sorted tables of
// address ranges, once per route: a request costs one resolution of its
// caller and a binary search, without allocation.
func (g *Gateway) ipFilterCheck(rt *route, api *portal.API) check {
	f := api.Policies.IPFilter
	if f == nil {
		return nil
	}
	forbidden := g.policyDenial(403, msgForbidden, "ip_forbidden")
	unknown := g.policyDenial(403, msgForbidden, "ip_unknown")
	set, err := compileIPFilter(f)
	if err != nil {
		// Stores validate policies; should a broken one slip through,
		// the API refuses everyone rather than guess which half of the
		// list was meant.
		g.log.Warn("API refuses every request: its ip_filter does not compile", "api", rt.name, "error", err)
		return func(rq *request) *denial {
			rq.detail = "ip_filter of the API does not compile"
			return forbidden
		}
	}
	allow := f.Action == portal.IPFilterAllow
	trusted := g.trustedProxies
	return func(rq *request) *denial {
		a, err := clientip.Resolve(rq.r.RemoteAddr, rq.r.Header["X-Forwarded-For"], trusted)
		if err != nil {
			rq.detail = detailIPUnknown
			return unknown
		}
		in := set.contains(a)
		switch {
		case allow && !in:
			rq.detail = "caller " + a.String() + " not allowed"
			return forbidden
		case !allow && in:
			rq.detail = "caller " + a.String() + " forbidden"
			return forbidden
		}
		return nil
	}
}

// ipSet is a set of addresses as sorted, disjoint, non-adjacent inclusive
// ranges, one table per family.
type ipSet struct {
	v4 []ipRange[uint32]
	v6 []ipRange[uint128]
}

type ipRange[T any] struct{ from, to T }

// uint128 is an IPv6 address as two big-endian halves.
type uint128 struct{ hi, lo uint64 }

func (a uint128) compare(b uint128) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

// next returns a+1, wrapping at the top (callers check for the top first).
func (a uint128) next() uint128 {
	if a.lo == ^uint64(0) {
		return uint128{a.hi + 1, 0}
	}
	return uint128{a.hi, a.lo + 1}
}

func v4Of(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

func v6Of(a netip.Addr) uint128 {
	b := a.As16()
	return uint128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// compileIPFilter turns f's addresses, CIDRs and ranges into an ipSet.
// IPv4-mapped IPv6 addresses are IPv4, as the caller's address is.
func compileIPFilter(f *portal.IPFilter) (*ipSet, error) {
	if f.Action != portal.IPFilterAllow && f.Action != portal.IPFilterForbid {
		return nil, fmt.Errorf("action %q", f.Action)
	}
	var v4 []ipRange[uint32]
	var v6 []ipRange[uint128]
	for _, s := range f.Addresses {
		p, err := portal.ParseIPPrefix(s)
		if err != nil {
			return nil, err
		}
		host := p.Addr().BitLen() - p.Bits()
		if p.Addr().Is4() {
			from := v4Of(p.Addr())
			v4 = append(v4, ipRange[uint32]{from, from | uint32(uint64(1)<<host-1)})
			continue
		}
		from := v6Of(p.Addr())
		to := from
		switch {
		case host >= 64:
			to.lo = ^uint64(0)
			to.hi |= uint64(1)<<(host-64) - 1 // all ones for /0: the shift gives 0
		default:
			to.lo |= uint64(1)<<host - 1
		}
		v6 = append(v6, ipRange[uint128]{from, to})
	}
	for _, r := range f.Ranges {
		from, err1 := netip.ParseAddr(r.From)
		to, err2 := netip.ParseAddr(r.To)
		if err1 != nil || err2 != nil || from.Zone() != "" || to.Zone() != "" {
			return nil, fmt.Errorf("range %s-%s: not two addresses", r.From, r.To)
		}
		from, to = from.Unmap(), to.Unmap()
		if from.Is4() != to.Is4() || to.Less(from) {
			return nil, fmt.Errorf("range %s-%s: not upward within one family", r.From, r.To)
		}
		if from.Is4() {
			v4 = append(v4, ipRange[uint32]{v4Of(from), v4Of(to)})
		} else {
			v6 = append(v6, ipRange[uint128]{v6Of(from), v6Of(to)})
		}
	}
	return &ipSet{
		v4: mergeRanges(v4, cmp.Compare[uint32], func(a uint32) (uint32, bool) { return a + 1, a != ^uint32(0) }),
		v6: mergeRanges(v6, uint128.compare, func(a uint128) (uint128, bool) {
			return a.next(), a != uint128{^uint64(0), ^uint64(0)}
		}),
	}, nil
}

// mergeRanges sorts rs and joins the ranges that overlap or touch. next
// returns a+1, and false when a is the family's last address.
func mergeRanges[T any](rs []ipRange[T], compare func(a, b T) int, next func(a T) (T, bool)) []ipRange[T] {
	slices.SortFunc(rs, func(a, b ipRange[T]) int { return compare(a.from, b.from) })
	var out []ipRange[T]
	for _, r := range rs {
		if n := len(out); n > 0 {
			last := &out[n-1]
			after, ok := next(last.to)
			if !ok || compare(r.from, after) <= 0 {
				if compare(r.to, last.to) > 0 {
					last.to = r.to
				}
				continue
			}
		}
		out = append(out, r)
	}
	return slices.Clip(out)
}

// contains reports whether a (unmapped, without zone) is in the set.
func (s *ipSet) contains(a netip.Addr) bool {
	if a.Is4() {
		return search(s.v4, v4Of(a), cmp.Compare[uint32])
	}
	return search(s.v6, v6Of(a), uint128.compare)
}

// search reports whether x is in one of the sorted disjoint ranges rs.
func search[T any](rs []ipRange[T], x T, compare func(a, b T) int) bool {
	// The first range that ends at or after x is the only candidate.
	lo, hi := 0, len(rs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if compare(rs[m].to, x) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo < len(rs) && compare(rs[lo].from, x) <= 0
}
