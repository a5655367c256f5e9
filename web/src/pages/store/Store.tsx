/**
 * The store (the data bus's keys): browse by prefix (with the next key segments as shortcuts),
 * search the listed keys, view a key's value (formatted when it is JSON), edit it with an optional
 * TTL, create keys and delete them (confirmed). The prefix and the open key are in the URL
 * (`?prefix=&key=`), so a view can be linked. A save warns when the key changed since it was opened.
 */
import { useState } from 'react';
import { query, useApi } from '../../api.ts';
import { Empty, PageHeader } from '../../components/ui.tsx';
import { useSearchParam } from '../../router.tsx';
import { Outcome } from '../parts/common.tsx';
import { Loaded } from '../parts/list-parts.tsx';
import KeyEditor from './KeyEditor.tsx';
import { type KeysAnswer } from './keys.ts';
import KeyList from './KeyList.tsx';
import KeyPanel from './KeyPanel.tsx';
import PrefixForm from './PrefixForm.tsx';
import '../pages.css';

export default function Store() {
  const [prefix, setPrefix] = useSearchParam('prefix');
  const [selected, setSelected] = useSearchParam('key');
  const [limit, setLimit] = useState<number>(500);
  const [creating, setCreating] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const applied = prefix ?? '';
  const list = useApi<KeysAnswer>(`/api/kv${query({ prefix: applied, limit })}`);

  const open = (key: string | null): void => {
    setCreating(false);
    setSelected(key, { push: true });
  };
  const browse = (p: string): void => {
    setCreating(false);
    setPrefix(p === '' ? null : p, { push: true });
  };

  const info = list.data?.keys.find((k) => k.key === selected);

  return (
    <div className="page">
      <PageHeader title="Store" subtitle="The data bus: keys and values jobs share (strings and sets).">
        <button
          type="button"
          className="btn btn-primary"
          onClick={() => {
            setSelected(null);
            setCreating(true);
          }}
        >
          New key
        </button>
        <button type="button" className="btn" onClick={() => void list.reload()}>
          Refresh
        </button>
      </PageHeader>
      <Outcome done={done} onDismiss={() => setDone(null)} />
      <div className="pg-split">
        <section className="pg-pane" aria-label="Keys">
          <PrefixForm applied={applied} onApply={browse} />
          <Loaded state={list}>{(data) => <KeyList answer={data} prefix={applied} limit={limit} onLimit={setLimit} selected={selected} onOpen={open} onBrowse={browse} />}</Loaded>
        </section>
        <section className="pg-pane pg-detail" aria-label={creating ? 'New key' : selected ? `Key ${selected}` : 'Key'}>
          {creating ? (
            <KeyEditor
              key="new"
              initialKey={applied}
              onCancel={() => setCreating(false)}
              onSaved={(key) => {
                setDone(`Saved ${key}.`);
                void list.reload();
                open(key);
              }}
            />
          ) : selected ? (
            <KeyPanel
              key={selected}
              keyName={selected}
              info={info}
              listReady={list.data !== undefined || list.error !== undefined}
              onChanged={(message) => {
                setDone(message);
                void list.reload();
              }}
              onDeleted={(message) => {
                setDone(message);
                void list.reload();
                setSelected(null);
              }}
              onClose={() => open(null)}
            />
          ) : (
            <Empty>Select a key to see its value, or create one with “New key”.</Empty>
          )}
        </section>
      </div>
    </div>
  );
}
