// Package stats is vtdirect's side of Vitess's stats package, for metrics with a tablet
// dimension: Vitess's timings histogram (the same buckets), metric descriptions named the
// Vitess way (a CamelCase variable, "ConnPoolCapacity", exported to Prometheus as
// prefix_snake_case, "vttablet_conn_pool_capacity"), and a Scrape that folds dimensions away
// as the RFC's dimension dropper and Vitess's --stats-combine-dimensions do: counters and
// gauges of the folded series add up, histograms merge. With Drop the label disappears; with
// Combine (Vitess's behaviour) it stays, with the value "all".
//
// It owns no registry and no global: a Collector gathers Sources at scrape time and is
// registered by the gateway; VarsJSON turns a Prometheus registry into Vitess's /debug/vars.
//
//	c := stats.NewCollector(stats.Folding{Drop: stats.Set("tablet")}, tabletSource)
//	registry.MustRegister(c)
//	mux.Handle("/debug/vars", stats.VarsHandler(registry))
package stats
