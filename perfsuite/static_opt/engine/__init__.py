"""The framework-free core of static_opt: index, header logic, negotiation, ranges.

Nothing in this package imports Django; :mod:`perfsuite.static_opt.serving`,
:mod:`perfsuite.static_opt.responses` and :mod:`perfsuite.static_opt.middleware`
are the thin Django skin around it. A request goes: middleware -> serving
(``StaticFiles.serve``) -> engine.responder (``Responder.respond``, an
``Outcome``) -> responses (a Django response). Request
headers are read from a WSGI-style mapping (``HTTP_ACCEPT_ENCODING`` ...), which
is what Django's ``request.META`` is under WSGI and ASGI alike.
"""
