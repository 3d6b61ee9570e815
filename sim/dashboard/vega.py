"""A Vega-Lite chart widget that compiles a chart once and then only swaps its data.

Solara's own ``VegaLite`` widget re-embeds the whole chart (parse, compile, render) on
every change. A round changes only the data, so this widget keeps the
compiled view and changes its named datasets in place (``view.change``): a step costs
the browser a redraw, not a compile, which matters when thirty pages share a machine.
Specs name their data (``{"data": {"name": ...}}``); the rows travel in ``values``.
"""

from __future__ import annotations

import ipyvuetify as v
import traitlets

TEMPLATE = r"""<template>
    <div>
        <div ref="plotElement" class="width-container"></div>
    </div>
</template>
<script>
module.exports = {
    created() {
        this.vegaLoaded = this.loadVega();
        this.embed_debounced = _.debounce(async () => {
            await this.vegaLoaded;
            this.embed();
        }, 50);
    },
    mounted() {
        this.embed_debounced();
    },
    destroyed() {
        if (this.observer) { this.observer.disconnect(); }
        if (this.view) { this.view.finalize(); }
    },
    watch: {
        spec() { this.embed_debounced(); },
        values() {
            // same chart, new data: change the named datasets in place (no new compile)
            if (!this.view || this.embedding) { this.embed_debounced(); return; }
            require(['vega'], (vega) => {
                const view = this.view;
                for (const [name, rows] of Object.entries(this.values)) {
                    view.change(name, vega.changeset().remove(vega.truthy).insert(JSON.parse(JSON.stringify(rows))));
                }
                view.runAsync();
            });
        },
    },
    methods: {
        embed() {
            this.embedding = true;
            require(['vega', 'vega-lite', 'vega-embed'], (vega, vl, vegaEmbed) => {
                (async () => {
                    const spec = {...JSON.parse(JSON.stringify(this.spec)),
                                  datasets: JSON.parse(JSON.stringify(this.values))};
                    if (this.view) { this.view.finalize(); }
                    if (this.observer) { this.observer.disconnect(); }
                    const { view } = await vegaEmbed(this.$refs.plotElement, spec, {actions: false, renderer: "svg"});
                    this.view = view;
                    this.observer = new ResizeObserver(() => { view.resize(); view.runAsync(); });
                    this.observer.observe(this.$refs.plotElement);
                    this.embedding = false;
                })();
            });
        },
        async loadVega() {
            await this.loadRequire();
            require.config({
                map: {
                    '*': {
                        'vega': `${this.getCdn()}/vega@5/build/vega.min.js`,
                        'vega-lite': `${this.getCdn()}/vega-lite@5/build/vega-lite.min.js`,
                        'vega-embed': `${this.getCdn()}/vega-embed@6/build/vega-embed.min.js`,
                    }
                }
            });
            await new Promise((resolve, reject) => {
                require(['vega', 'vega-lite', 'vega-embed'], () => resolve(), reject);
            });
        },
        loadRequire() {
            if (window.requirejs) { return Promise.resolve(); }
            return new Promise((resolve, reject) => {
                const script = document.createElement('script');
                script.src = `${this.getCdn()}/requirejs@2.3.6/require.js`;
                script.onload = resolve;
                script.onerror = reject;
                document.head.appendChild(script);
            });
        },
        getCdn() {
            return window.solara ? window.solara.cdn : "./_solara/cdn";
        }
    },
}
</script>
<style id="negotiation-vega-width">
.width-container.vega-embed, .width-container { width: 100%; }
</style>
"""


class Vega(v.VuetifyTemplate):
    """The chart widget: ``spec`` is the chart without its rows, ``values`` the rows of each named dataset."""

    template = traitlets.Unicode(TEMPLATE).tag(sync=True)
    spec = traitlets.Dict().tag(sync=True)  # the chart without its rows (a change re-embeds it)
    values = traitlets.Dict().tag(sync=True)  # dataset name -> rows (a change swaps the data only)
