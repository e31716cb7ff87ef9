// statusgen live: keeps the home, component and incident pages current between builds.
// statusgen bakes CONFIG in (statusgen/site/live.py), strips these comment lines and the
// indentation, and serves the result as live.js at each language's home.
// CONFIG: {i: seconds between polls, a: summary.json beside this file, b: base URL,
// r: from this file to the site's root, z: timezone, f: date template ({day} {M} {year},
// {H}:{m}), n: month abbreviations, o: {UTC offset in minutes: zone name}, w: words}
// The page marks what may change: data-live-overall (the banner), data-live-component (a
// status), data-live-incident (an incident), data-live-status (its status label, with
// data-live-window="START END" for a maintenance that moves by the clock),
// data-live-section (the home page's lists), data-live-region, data-live-updated.
// A failure leaves the page as built: nothing here ever writes an error on the page.
(()=>{try{
const C=/*CONFIG*/,W=C.w,D=document,S=D.currentScript,I=C.i*1e3,N='numeric',G=new Set,
O=['scheduled','in_progress','verifying','completed'],
K=['active','in-progress','upcoming'],
q=(s,e=D)=>e.querySelector(s),
Q=(s,e=D)=>[...e.querySelectorAll(s)],
f=(s,v)=>s.replace(/\{(\w+)\}/g,(m,k)=>v[k]),
E=(t,c,x)=>{const e=D.createElement(t);c&&(e.className=c);x!=null&&(e.textContent=x);return e},
ic=()=>{const e=E('span','icon');e.setAttribute('aria-hidden','true');return e},
P=new Intl.DateTimeFormat('en',{timeZone:C.z,hourCycle:'h23',year:N,month:N,day:N,hour:N,minute:N,timeZoneName:'longOffset'}),
z=n=>('0'+n).slice(-2),
p=d=>{const r={};P.formatToParts(d).forEach(x=>r[x.type]=x.value);r.H=z(r.hour%24);r.m=z(r.minute);r.D=z(r.day);r.M=C.n[r.month-1];return r},
// The build's format: the theme's pattern, babel's month names, the zone's abbreviation.
w=d=>{const r=p(d),m=/([+-])(\d+):(\d+)/.exec(r.timeZoneName);return f(C.f,r)+' '+(C.o[m?(m[1]+1)*(m[2]*60+ +m[3]):0]||r.timeZoneName)},
t=s=>{const e=E('time',0,w(new Date(s)));e.dateTime=s;return e},
L=u=>u.indexOf(C.b)?u:new URL(C.r+u.slice(C.b.length),S.src).href,
late=(a,b)=>O.indexOf(a)<O.indexOf(b)?b:a,
B=()=>q('[data-live-overall]'),
say=m=>G.add(m),
nm=e=>q('h1,h3,h4',e.closest('[data-live-incident]')).textContent,
// A home page list, made where the build puts it when it is not there yet.
sec=k=>{let s=q(`[data-live-section=${k}]`),a=B(),h;if(s||!a)return s;
s=E('section');s.dataset.liveSection=k;s.setAttribute('aria-labelledby',k);h=E('h2',0,W.h[k]);h.id=k;s.append(h);
K.slice(0,K.indexOf(k)).forEach(x=>a=q(`[data-live-section=${x}]`)||a);a.after(s);return s},
lab=(e,s)=>{const l=q('.label',e);l&&(l.textContent=W.s[s]);e.dataset.liveStatus=s},
// A new incident as the build's summary.html shows it.
art=i=>{const a=E('article','incident-summary k-incident i-'+i.impact),h=E('h3'),n=E('a',0,i.name),m=E('p','meta');
a.dataset.liveIncident=i.id;n.href=L(i.shortlink);h.append(n);
m.append(E('span','impact i-'+i.impact,W.p[i.impact]),' \u00b7 ',E('span','label'),' \u00b7 ',t(i.started_at));
a.append(h,m);lab(a,i.status);return a},
up=(a,i)=>{const u=i.incident_updates[0],o=q('.latest',a),x=o&&q('.when time',o),d=E('div','latest'),e=E('p','when',W.t+' ');
if(!u||x&&Date.parse(x.dateTime)>=Date.parse(u.display_at))return;
e.append(t(u.display_at));d.append(E('p',0,u.body),e);o?o.replaceWith(d):a.append(d)},
// A maintenance moves only forward, by the build's rule (state.maintenance_status).
mv=(e,s)=>{const w=e.dataset.liveStatus,a=e.closest('[data-live-incident]'),c=a.closest('[data-live-section]'),n=nm(e);
s=late(w,s);if(s==w)return;lab(e,s);
if(s=='completed'){say(f(W.e,{t:n}));c&&a.remove()}
else if(w=='scheduled'){say(f(W.b,{t:n}));c&&sec('in-progress').append(a)}},
// The clock: each window at its edges, then the next edge.
tk=()=>{const now=Date.now(),r=q('[data-live-region]');let x=1/0;
Q('[data-live-window]').forEach(e=>{const[s,u]=e.dataset.liveWindow.split(' ').map(Date.parse);
mv(e,now<s?'scheduled':now<u?'in_progress':'completed');[s,u].forEach(v=>v>now&&v<x&&(x=v))});
Q('[data-live-section]').forEach(s=>q('article',s)||s.remove());
r&&G.size&&(r.textContent=[...G].join('. '));G.clear();
clearTimeout(tk.t);x<1/0&&(tk.t=setTimeout(tk,Math.min(x-now+50,2e9)))},
ap=s=>{const A=new Map(s.incidents.map(i=>[i.id,i])),M=new Map(s.scheduled_maintenances.map(i=>[i.id,i])),b=B(),k=s.status.indicator,h=b&&W.d[k];
if(h){b.className=b.className.replace(/\bind-\S+/,'ind-'+k);q('h2',b).replaceChildren(ic(),h)}
s.components.forEach(c=>Q(`[data-live-component="${c.id}"] .status`).forEach(e=>{const v=W.c[c.status];
if(v&&!e.classList.contains('s-'+c.status)){e.className='status s-'+c.status;e.replaceChildren(ic(),v);c.group||say(f(W.k,{n:c.name,s:v}))}}));
if(b){const on=Q('[data-live-section] article').map(a=>a.dataset.liveIncident);
[...A.values()].reverse().forEach(i=>on.includes(i.id)||(q('h2',sec('active')).after(art(i)),say(f(W.o,{t:i.name}))));
Q('[data-live-section=active] article').forEach(a=>{const i=A.get(a.dataset.liveIncident);i?up(a,i):(say(f(W.r,{t:nm(a)})),a.remove())})}
Q('[data-live-status]').forEach(e=>{const d=e.dataset,st=d.liveStatus,id=e.closest('[data-live-incident]').dataset.liveIncident,i=A.get(id)||M.get(id);
if(d.liveWindow)i&&mv(e,i.status);
else if(i&&i.status!=st){lab(e,i.status);say(f(W.x,{t:i.name,s:W.s[i.status]}))}
else if(!i&&/^(inv|ide|mon)/.test(st)){lab(e,'resolved');say(f(W.r,{t:nm(e)}))}});
tk()},
fr=()=>{const u=q('[data-live-updated]'),r=p(new Date);u&&(u.textContent=f(W.u,{t:r.H+':'+r.m}),u.hidden=!1)};
let T,F=0,V,R;
// summary.json with its ETag; every C.i seconds while the tab is visible, less often after failures.
const po=()=>{clearTimeout(T);if(D.hidden||R)return;R=1;
const A=new AbortController,k=setTimeout(()=>A.abort(),Math.min(3e4,Math.max(5e3,I)));
fetch(new URL(C.a,S.src),{signal:A.signal,cache:'no-store',headers:V?{'If-None-Match':V}:{}})
.then(r=>r.status==304||(r.ok?r.json().then(s=>{ap(s);V=r.headers.get('ETag')||V}):Promise.reject()))
// Off line, a server error, bad JSON, a hanging request: wait longer, say nothing.
.then(()=>{F=0;fr()},()=>F++)
.finally(()=>{clearTimeout(k);R=0;D.hidden||(T=setTimeout(po,Math.min(6e5,I*2**F)))})};
D.addEventListener('visibilitychange',()=>D.hidden?clearTimeout(T):po());
tk();po()
}catch(e){}})()
