"""Reference data carried inside the product, with loaders and the rules built on it.

* :mod:`shengxin.reference.industries` — GB/T 4754-2017 industry classification and lookups;
* :mod:`shengxin.reference.size` — enterprise size (大中小微, NBS 2017 standard);
* :mod:`shengxin.reference.scope` — statistical survey scopes (规上 / 限上 / 资质等级);
* :mod:`shengxin.reference.district` — the district configuration (towns/streets, departments).

The data files live in ``data/``; ``SOURCES.md`` says where each comes from.
"""
