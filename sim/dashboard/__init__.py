"""The dashboard's parts: charts, menus and the chart widget (no web server needed), and the page's views.

The views are Solara components, imported only when a page is served (:func:`sim.app.build_page`):
``panels`` (the cards every view shares), ``solo`` (practice alone), ``room`` (a seat in a
class room), ``teacher`` (the teacher's board) and ``page`` (the navigation and the view the
address names).
"""
